"""Hypothesis strategies for fuzzing readers: a seed file of the format, then a few
mutations a person or a broken copy makes (cut short, bytes overwritten or inserted,
lines dropped or doubled, delimiters swapped, tokens a parser special-cases, gzip)."""

from __future__ import annotations

import gzip

from hypothesis import strategies as st

#: Fragments parsers treat specially: delimiters, quotes, numbers at the edges, JSON and
#: Newick punctuation, and column names the readers look for.
TOKENS = (
    b"\t", b",", b"\n", b"\r\n", b"\r", b'"', b"'", b"#", b"# ", b"\x00", b"\xff", b"\xef\xbb\xbf",
    b"", b" ", b"NaN", b"nan", b"inf", b"-inf", b"-1", b"0", b"1e309", b"-0.0", b"1.5",
    b"99999999999999999999", b"true", b"null", b"[]", b"{}", b"[", b"]", b"{", b"}", b":",
    b"(", b")", b";", b"((", b"))", b"'a''b'", b"e-", b"1:2:3",
    b'"data"', b'"shape"', b'"rows"', b'"columns"', b'"matrix_type": "dense"',
    b'"resourceType"', b'"entry"', b'"valueQuantity"', b'"resource"', b"#q2:types",
    b"categorical", b"numeric", b"feature_id", b"sample_id", b"#OTU ID", b"clade_name",
    b"k__Bacteria|p__", b"|t__", b"record_id", b"redcap_event_name", b"redcap_repeat_instrument",
    b"_complete", b"[not completed]", b"subject_id", b"administered_at", b"kind", b"lab",
    b"score", b"2024-02-30", b"2024-03-01T25:00:00Z", b"2024-03-01 08:00", b"+14:00",
    b"Unassigned", b"d__; p__", b"\x1f\x8b", b"PK\x03\x04",
)


def _truncate(draw: st.DrawFn, data: bytes) -> bytes:
    return data[: draw(st.integers(0, len(data)))]


def _overwrite(draw: st.DrawFn, data: bytes) -> bytes:
    at = draw(st.integers(0, len(data)))
    chunk = draw(st.binary(min_size=1, max_size=8))
    return data[:at] + chunk + data[at + len(chunk):]


def _insert(draw: st.DrawFn, data: bytes) -> bytes:
    at = draw(st.integers(0, len(data)))
    chunk = draw(st.sampled_from(TOKENS) | st.binary(max_size=16))
    return data[:at] + chunk + data[at:]


def _delete(draw: st.DrawFn, data: bytes) -> bytes:
    at = draw(st.integers(0, len(data)))
    return data[:at] + data[at + draw(st.integers(1, 64)):]


def _lines(draw: st.DrawFn, data: bytes) -> bytes:
    lines = data.splitlines(keepends=True)
    if not lines:
        return data
    i = draw(st.integers(0, len(lines) - 1))
    action = draw(st.sampled_from(["drop", "double", "swap", "blank"]))
    if action == "drop":
        del lines[i]
    elif action == "double":
        lines.insert(i, lines[i])
    elif action == "swap":
        j = draw(st.integers(0, len(lines) - 1))
        lines[i], lines[j] = lines[j], lines[i]
    else:
        lines.insert(i, b"\n")
    return b"".join(lines)


def _swap_bytes(draw: st.DrawFn, data: bytes) -> bytes:
    old, new = draw(st.sampled_from([(b"\t", b","), (b",", b"\t"), (b"\n", b"\r"),
                                     (b"0", b"-1"), (b".", b","), (b"_", b"-"),
                                     (b'"', b""), (b":", b""), (b";", b",")]))
    return data.replace(old, new, draw(st.integers(1, 3)))


def _gzip(draw: st.DrawFn, data: bytes) -> bytes:
    packed = gzip.compress(data, mtime=0)
    return packed[: draw(st.integers(2, len(packed)))]


MUTATIONS = (_truncate, _overwrite, _insert, _delete, _lines, _swap_bytes, _gzip)


@st.composite
def mutated(draw: st.DrawFn, seeds: list[bytes]) -> bytes:
    """A seed with zero to four mutations, or (rarely) bytes from nowhere."""
    if draw(st.integers(0, 19)) == 0:
        return draw(st.binary(max_size=256))
    data = draw(st.sampled_from(seeds))
    for _ in range(draw(st.integers(0, 4))):
        data = draw(st.sampled_from(MUTATIONS))(draw, data)
    return data
