"""Arrow text arrays as numpy views, for code that looks at every cell's bytes at once (the
bulk code checks, the formula rule's Arrow form, the screen's CSV) without a Python object per
cell."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa


def text_buffers(array: pa.StringArray) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.uint8]]:
    """The offsets of a ``string`` array (``len + 1``: where each cell starts, then where the
    last one ends) and the bytes they index. The bytes are not copied and not cut to the array:
    a slice's offsets index its parent's whole buffer."""
    _, offsets, data = array.buffers()
    assert offsets is not None
    starts = np.frombuffer(offsets, dtype=np.int32, count=len(array) + 1, offset=4 * array.offset)
    body = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, np.uint8)
    return starts.astype(np.int64), body
