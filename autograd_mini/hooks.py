"""The handle that hook registrations return (`Tensor.register_hook`, `Module.register_forward_hook`,
`Module.register_forward_pre_hook`), as `torch.utils.hooks.RemovableHandle`."""
import itertools

_ids = itertools.count()


class RemovableHandle:
    """Removes the hook it was returned for: `handle.remove()`, or leaving `with handle:`.

    The hook sits in `hooks`, a dict {handle id: hook} kept in registration order; removing it
    twice, or after the dict was cleared, does nothing.
    """

    __slots__ = ("hooks", "id")

    def __init__(self, hooks):
        self.hooks, self.id = hooks, next(_ids)

    @classmethod
    def add(cls, hooks, fn, prepend=False):
        """Put `fn` into `hooks` (last, or first with `prepend`) and return its handle."""
        if not callable(fn):
            raise TypeError(f"a hook must be callable, got {type(fn).__name__}")
        handle = cls(hooks)
        hooks[handle.id] = fn
        if prepend:
            for key in [k for k in hooks if k != handle.id]:
                hooks[key] = hooks.pop(key)  # moves every other hook behind the new one
        return handle

    def remove(self):
        self.hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()

    def __repr__(self):
        return f"<RemovableHandle {self.id}>"
