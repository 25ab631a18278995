"""Read and write Newick trees as :class:`~gutaxis.data.tree.PhyloTree` postorder arrays.

The parser is iterative (a token loop with an explicit stack, no recursion), so trees
of any depth parse; a 14,000-node QIIME 2 tree takes a few tens of milliseconds.
Newick text is completed in postorder by construction (a node's label follows all of
its descendants), so nodes are numbered as they close and the root comes last.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

import numpy as np

from gutaxis.data.tree import PhyloTree
from gutaxis.errors import InputError
from gutaxis.io._files import read_bytes

__all__ = ["format_newick", "parse_newick", "read_newick", "write_newick"]

_TOKENS = re.compile(
    r"""(?P<space>\s+)
      | (?P<comment>\[[^\]]*\])
      | (?P<quoted>'(?:[^']|'')*')
      | (?P<punct>[(),:;])
      | (?P<word>[^\s()\[\],:;']+)
      | (?P<bad>.)""",
    re.VERBOSE | re.DOTALL,
)

# parser states: what the previous meaningful token allows next
_NEW_NODE = 0  # at the start, after "(" or ",": a label, "(", ":" or a closing token
_NAMED = 1  # a node is complete and may still take a label (right after ")")
_LABELLED = 2  # the node has its label; it may take ":" and a length
_LENGTH = 3  # after ":": a number must follow
_DONE = 4  # the node has its length
_FINISHED = 5  # after ";"

_UNQUOTED_SAFE = re.compile(r"^[^\s()\[\],:;']+$")


def parse_newick(text: str, *, source: str | None = None) -> PhyloTree:
    """Parse one Newick tree into postorder arrays.

    Parameters
    ----------
    text
        The Newick string, e.g. ``"((a:1,b:2)0.95:0.5,c:3)root;"``.
    source
        File name or field the text came from, for error messages.

    Returns
    -------
    PhyloTree
        Nodes in postorder, root last. ``rooted`` is ``False`` when the root has more
        than two children (the usual mark of an unrooted tree, as in scikit-bio).

    Raises
    ------
    InputError
        On malformed text, with the character position (and line and column) of the
        first problem, what was found there and what was expected.

    Notes
    -----
    Supported: quoted labels (``'a b'``, with ``''`` for a quote), comments in square
    brackets anywhere between tokens, internal labels and support values
    (``)0.933:3.08``), missing branch lengths (stored as ``NaN``), numbers in
    scientific notation (``5e-09``), unnamed nodes and any whitespace or line breaks.
    Unquoted labels are kept as written: underscores are *not* turned into spaces
    (scikit-bio's ``convert_underscores=True`` default does that; QIIME 2 does not), so
    feature ids such as ``k__Bacteria`` match the table. The root's own length, when
    given, is kept (``length[-1]``) and counts in Faith PD and UniFrac exactly as in
    scikit-bio; a missing root length is ``0``. The final ``;`` may be omitted; text
    after it is refused (one tree per string).

    Examples
    --------
    >>> tree = parse_newick("((a:1,b:2)0.9:0.5,c:3);")
    >>> tree.tip_names
    ['a', 'b', 'c']
    >>> tree.parent.tolist()
    [2, 2, 4, 4, -1]
    """
    names: list[str] = []
    lengths: list[float] = []
    parents: list[int] = []
    open_children: list[list[int]] = []  # children seen so far of each open "("
    state = _NEW_NODE
    current = -1  # the node that takes the next label or length

    def new_node(name: str) -> int:
        names.append(name)
        lengths.append(math.nan)
        parents.append(-1)
        return len(names) - 1

    for match in _TOKENS.finditer(text):
        kind = match.lastgroup
        if kind == "space" or kind == "comment":
            continue
        token = match.group()
        pos = match.start()
        if state == _FINISHED:
            raise _error(text, pos, source, "text after the closing ';'", "one tree per file")
        if kind == "bad":
            what = "unterminated comment" if token == "[" else (
                "unterminated quoted label" if token == "'" else f"unexpected {token!r}")
            raise _error(text, pos, source, what, "a label, '(', ')', ',', ':' or ';'")
        if state == _LENGTH:
            if kind != "word":
                raise _error(text, pos, source, f"{token!r} after ':'", "a branch length")
            lengths[current] = _length(token, text, pos, source)
            state = _DONE
            continue
        if kind in ("word", "quoted"):
            label = token[1:-1].replace("''", "'") if kind == "quoted" else token
            if state == _NEW_NODE:
                current = new_node(label)
            elif state == _NAMED:
                names[current] = label
            else:
                raise _error(text, pos, source, f"label {token!r} in an unexpected place",
                             "',', ')' or ';' after a complete node")
            state = _LABELLED
        elif token == "(":
            if state != _NEW_NODE:
                raise _error(text, pos, source, "'(' after a complete node",
                             "',' or ')' between sibling nodes")
            open_children.append([])
        elif token == ":":
            if state == _NEW_NODE:
                current = new_node("")
            elif state not in (_NAMED, _LABELLED):
                raise _error(text, pos, source, "a second ':' for one node", "one branch length")
            state = _LENGTH
        elif token == ",":
            if not open_children:
                raise _error(text, pos, source, "',' outside parentheses",
                             "sibling nodes inside '(' and ')'")
            if state == _NEW_NODE:
                current = new_node("")
            open_children[-1].append(current)
            state = _NEW_NODE
        elif token == ")":
            if not open_children:
                raise _error(text, pos, source, "')' without a matching '('", "balanced brackets")
            if state == _NEW_NODE:
                current = new_node("")
            children = open_children.pop()
            children.append(current)
            current = new_node("")
            for child in children:
                parents[child] = current
            state = _NAMED
        else:  # ";"
            _check_complete(text, pos, source, open_children, names, state)
            state = _FINISHED
    if state != _FINISHED:
        _check_complete(text, len(text), source, open_children, names, state)
    return _to_tree(parents, lengths, names, source)


def read_newick(path: str | os.PathLike[str]) -> PhyloTree:
    """Read a Newick file (plain or gzipped) into a :class:`PhyloTree`.

    See :func:`parse_newick` for what is accepted; errors name the file and position.

    Parameters
    ----------
    path
        A Newick file, plain or gzipped.
    """
    p = Path(path)
    raw = read_bytes(p)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError("file is not UTF-8 text", source=str(p),
                         found=f"byte {raw[exc.start]:#04x} at byte {exc.start + 1}",
                         expected="a Newick tree") from None
    return parse_newick(text, source=str(p))


def format_newick(tree: PhyloTree, *, precision: int | None = None) -> str:
    """Write a :class:`PhyloTree` as a Newick string (the inverse of :func:`parse_newick`).

    Labels that need it are quoted; missing lengths are omitted. Lengths are written in
    the shortest form that reads back to the same float64 (``5e-09``), or with
    ``precision`` significant digits when given.

    Examples
    --------
    >>> format_newick(parse_newick("((a:1,'b c':2.5)0.9:5e-09,c);"))
    "((a:1.0,'b c':2.5)0.9:5e-09,c);"
    """
    parent = tree.parent
    n = tree.n_nodes
    order = np.argsort(parent[:-1], kind="stable")
    counts = np.bincount(parent[:-1], minlength=n)
    starts = np.concatenate([[0], np.cumsum(counts)])
    text: list[str] = [""] * n
    for node in range(n):  # postorder: every child is written before its parent
        label = _quote(str(tree.names[node]))
        length = float(tree.length[node])
        if math.isnan(length) or (node == n - 1 and length == 0.0):
            suffix = label  # a root length of 0 is what a missing one reads back as
        else:
            suffix = f"{label}:{length!r}" if precision is None else \
                f"{label}:{length:.{precision}g}"
        if counts[node]:
            kids = order[starts[node]: starts[node + 1]]
            text[node] = "(" + ",".join(text[k] for k in kids) + ")" + suffix
            for k in kids:
                text[k] = ""
        else:
            text[node] = suffix
    return text[-1] + ";"


def write_newick(tree: PhyloTree, path: str | os.PathLike[str]) -> None:
    """Write ``tree`` to ``path`` as one line of Newick."""
    Path(path).write_text(format_newick(tree) + "\n", encoding="utf-8")


def _quote(label: str) -> str:
    if label == "" or _UNQUOTED_SAFE.match(label):
        return label
    return "'" + label.replace("'", "''") + "'"


def _length(token: str, text: str, pos: int, source: str | None) -> float:
    try:
        value = float(token)
    except ValueError:
        raise _error(text, pos, source, f"branch length {token!r} is not a number",
                     "a number such as 0.5 or 5e-09") from None
    if not math.isfinite(value):
        raise _error(text, pos, source, f"branch length {token!r} is not finite",
                     "a finite number")
    return value


def _check_complete(text: str, pos: int, source: str | None, open_children: list[list[int]],
                    names: list[str], state: int) -> None:
    if state == _LENGTH:
        raise _error(text, pos, source, "':' without a branch length", "a number after ':'")
    if open_children:
        raise _error(text, pos, source, f"{len(open_children)} '(' never closed",
                     "a ')' for every '('")
    if not names:
        raise _error(text, pos, source, "no tree", "a Newick tree such as '(a,b);'")


def _to_tree(parents: list[int], lengths: list[float], names: list[str],
             source: str | None) -> PhyloTree:
    parent = np.asarray(parents, dtype=np.int64)
    length = np.asarray(lengths, dtype=np.float64)
    if np.isnan(length[-1]):
        length[-1] = 0.0
    n_root_children = int(np.count_nonzero(parent == parent.size - 1))
    return PhyloTree(parent, length, np.asarray(names, dtype=object),
                     rooted=n_root_children <= 2, source=source)


def _error(text: str, pos: int, source: str | None, what: str, expected: str) -> InputError:
    line = text.count("\n", 0, pos) + 1
    column = pos - (text.rfind("\n", 0, pos) + 1) + 1
    snippet = text[max(0, pos - 20): pos + 20].replace("\n", " ")
    return InputError(
        f"malformed Newick at character {pos + 1} (line {line}, column {column}): {what}",
        source=source,
        found=snippet if snippet else "end of text",
        expected=expected,
    )
