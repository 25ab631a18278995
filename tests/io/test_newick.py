"""Newick parsing and writing, checked against scikit-bio's independent reader.

Tolerances: tip-to-root distances and total lengths agree with scikit-bio to 1e-12
(absolute; the distances are sums of up to 60 branch lengths of order 1).
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
import skbio
from hypothesis import given, settings
from hypothesis import strategies as st

from gutaxis.data.tree import PhyloTree
from gutaxis.errors import InputError
from gutaxis.io.newick import format_newick, parse_newick, read_newick, write_newick


def _skbio_read(text: str) -> skbio.TreeNode:
    return skbio.TreeNode.read([text], convert_underscores=False)


def _tip_depths(tree: PhyloTree) -> dict[str, float]:
    depth = tree.root_distances()
    return {str(tree.names[i]): float(depth[i]) for i in np.flatnonzero(tree.is_tip)}


def _skbio_tip_depths(tree: skbio.TreeNode) -> dict[str, float]:
    return {tip.name: tip.accumulate_to_ancestor(tree) for tip in tree.tips()}


# ------------------------------------------------------------------ real data
@pytest.fixture(scope="module")
def real_tree_path(fibromyalgia_dir: Path) -> Path:
    return fibromyalgia_dir / "tree.nwk"


@pytest.mark.realdata
def test_real_tree_matches_skbio(real_tree_path: Path) -> None:
    tree = read_newick(real_tree_path)
    reference = skbio.TreeNode.read(str(real_tree_path), convert_underscores=False)
    assert tree.n_tips == 6993
    assert tree.n_nodes == reference.count()
    assert tree.rooted
    assert set(tree.tip_names) == {tip.name for tip in reference.tips()}
    total = sum(node.length or 0.0 for node in reference.traverse(include_self=True))
    assert tree.total_length() == pytest.approx(total, rel=1e-12)
    mine, theirs = _tip_depths(tree), _skbio_tip_depths(reference)
    assert max(abs(mine[k] - theirs[k]) for k in theirs) < 1e-12


@pytest.mark.realdata
def test_real_tree_support_values_are_internal_names(real_tree_path: Path) -> None:
    tree = read_newick(real_tree_path)
    internal = tree.names[~tree.is_tip]
    assert internal[-1] == "root"
    assert "0.933" in set(internal.tolist())


@pytest.mark.realdata
def test_real_tree_round_trips_through_writer(real_tree_path: Path, tmp_path: Path) -> None:
    tree = read_newick(real_tree_path)
    write_newick(tree, tmp_path / "copy.nwk")
    again = read_newick(tmp_path / "copy.nwk")
    np.testing.assert_array_equal(again.parent, tree.parent)
    np.testing.assert_array_equal(again.length, tree.length)
    np.testing.assert_array_equal(again.names, tree.names)


@pytest.mark.realdata
def test_real_tree_shear_matches_skbio(real_tree_path: Path) -> None:
    tree = read_newick(real_tree_path)
    keep = tree.tip_names[::7]
    sheared = tree.shear(keep)
    reference = skbio.TreeNode.read(str(real_tree_path), convert_underscores=False).shear(keep)
    assert sheared.n_nodes == reference.count()
    assert set(sheared.tip_names) == set(keep)
    total = sum(node.length or 0.0 for node in reference.traverse(include_self=True))
    assert sheared.total_length() == pytest.approx(total, abs=1e-9)
    mine, theirs = _tip_depths(sheared), _skbio_tip_depths(reference)
    assert max(abs(mine[k] - theirs[k] - (reference.length or 0.0)) for k in theirs) < 1e-12


def test_read_gzipped(tmp_path: Path) -> None:
    path = tmp_path / "t.nwk.gz"
    path.write_bytes(gzip.compress(b"((a:1,b:2):3,c:4);\n"))
    assert read_newick(path).tip_names == ["a", "b", "c"]


# -------------------------------------------------------------- syntax pieces
def test_postorder_numbering_with_root_last() -> None:
    tree = parse_newick("((a:1,b:2)x:3,(c:4,d:5)y:6)r;")
    assert tree.names.tolist() == ["a", "b", "x", "c", "d", "y", "r"]
    assert tree.parent.tolist() == [2, 2, 6, 5, 5, 6, -1]
    assert tree.length.tolist() == [1, 2, 3, 4, 5, 6, 0]


def test_quoted_labels_keep_spaces_quotes_and_punctuation() -> None:
    tree = parse_newick("('a b':1,'it''s (x), y: z':2,'[not a comment]':3);")
    assert tree.tip_names == ["a b", "it's (x), y: z", "[not a comment]"]


def test_underscores_are_kept() -> None:
    assert parse_newick("(k__Bacteria_x:1,b:2);").tip_names == ["k__Bacteria_x", "b"]


def test_comments_are_skipped_anywhere() -> None:
    tree = parse_newick("[head]((a[c1]:1[&&NHX:x=1],b:2)[c2]0.9[c3]:3,c:4)[c4];[tail]")
    assert tree.tip_names == ["a", "b", "c"]
    assert tree.names[2] == "0.9"
    assert tree.length.tolist() == [1, 2, 3, 4, 0]


def test_support_values_and_scientific_notation() -> None:
    tree = parse_newick("((a:5e-09,b:1.5E+2)0.933:3.08,c:-0.25);")
    assert tree.names[2] == "0.933"
    assert tree.length.tolist() == [5e-09, 150.0, 3.08, -0.25, 0.0]


def test_missing_lengths_are_nan_and_root_length_kept() -> None:
    tree = parse_newick("((a,b:2),c:1):0.5;")
    assert np.isnan(tree.length[0]) and np.isnan(tree.length[2])
    assert tree.length[-1] == 0.5


def test_whitespace_and_newlines_anywhere() -> None:
    tree = parse_newick("\n (\n ( a : 1 ,\tb:2 )\n : 3 ,\r\n c : 4 ) ;\n")
    assert tree.tip_names == ["a", "b", "c"]
    assert tree.length.tolist() == [1, 2, 3, 4, 0]


def test_unnamed_nodes_and_single_tip_tree() -> None:
    tree = parse_newick("(:1,(b:2,):3);")
    assert tree.n_tips == 3 and tree.tip_names == ["b"]
    single = parse_newick("a:2;")
    assert single.n_nodes == 1 and single.tip_names == ["a"] and single.length[0] == 2


def test_missing_final_semicolon_is_accepted() -> None:
    assert parse_newick("(a,b)").n_nodes == 3


def test_trifurcating_root_is_unrooted() -> None:
    assert not parse_newick("(a:1,b:1,c:1);").rooted
    assert parse_newick("((a:1,b:1):1,c:1);").rooted


def test_deep_caterpillar_tree_parses_without_recursion() -> None:
    depth = 20_000
    text = "(" * depth + "t0:1" + "".join(f",t{i + 1}:1):1" for i in range(depth)) + ";"
    tree = parse_newick(text)
    assert tree.n_tips == depth + 1
    assert tree.root_distances()[0] == depth + 1  # t0 sits below every internal node


def test_writer_quotes_what_needs_quoting() -> None:
    tree = parse_newick("('a b':1,'x''y':2,'c,d':0.5)'r t';")
    text = format_newick(tree)
    again = parse_newick(text)
    assert again.names.tolist() == tree.names.tolist()
    assert _skbio_read(text).count() == tree.n_nodes


# ----------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("text", "where", "what"),
    [
        ("((a,b);", "character 7", "never closed"),
        ("(a,b));", "character 6", "without a matching"),
        ("(a:1,b:x);", "character 8", "not a number"),
        ("(a:1,b:);", "character 8", "after ':'"),
        ("(a:1:2,b);", "character 5", "second ':'"),
        ("(a,b)c d;", "character 8", "unexpected place"),
        ("(a,b);(c,d);", "character 7", "after the closing"),
        ("(a,'b);", "character 4", "unterminated quoted"),
        ("(a,b[x);", "character 5", "unterminated comment"),
        ("(a,b)(c,d);", "character 6", "after a complete node"),
        ("a,b;", "character 2", "outside parentheses"),
        ("  ;", "character 3", "no tree"),
        ("", "character 1", "no tree"),
        ("(a:inf,b);", "character 4", "not finite"),
    ],
)
def test_malformed_newick_names_the_position(text: str, where: str, what: str) -> None:
    with pytest.raises(InputError, match=what) as info:
        parse_newick(text, source="my.nwk")
    message = str(info.value)
    assert message.startswith("my.nwk")
    assert where in message


def test_error_reports_line_and_column() -> None:
    with pytest.raises(InputError, match=r"line 3, column 3"):
        parse_newick("(a:1,\nb:2,\nc:x);")


def test_duplicate_tip_names_refused() -> None:
    with pytest.raises(InputError, match=r"duplicate tip names.*found 'a'"):
        parse_newick("((a,b),a);")


def test_not_utf8_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.nwk"
    path.write_bytes(b"(a,\xff);")
    with pytest.raises(InputError, match="not UTF-8"):
        read_newick(path)


# ----------------------------------------------------------------- shear
def test_shear_collapses_single_children_and_root() -> None:
    text = "(A:1,(B:2,(C:3,D:4)x:5)y:6,E:7)r;"
    sheared = parse_newick(text).shear(["B", "C"])
    reference = _skbio_read(text).shear(["B", "C"])
    assert sheared.names.tolist() == ["B", "C", "y"]
    assert sheared.length.tolist() == [2.0, 8.0, reference.length]
    assert sheared.parent.tolist() == [2, 2, -1]


def test_shear_to_one_tip_keeps_its_root_distance() -> None:
    sheared = parse_newick("((a:1,b:2):3,c:4);").shear(["b"])
    assert sheared.n_nodes == 1 and sheared.names[0] == "b" and sheared.length[0] == 5.0


def test_shear_refuses_unknown_tips() -> None:
    with pytest.raises(InputError, match=r"missing 1 feature.*found 'zz'"):
        parse_newick("(a,b);").shear(["a", "zz"])


# ------------------------------------------------------ tree arrays
def test_path_matrix_marks_every_ancestor() -> None:
    tree = parse_newick("((a:1,b:2)x:3,c:4)r;")
    paths = tree.path_matrix(np.array([1, 3, 2]))
    np.testing.assert_array_equal(paths.toarray(), [[0, 1, 1, 0, 1], [0, 0, 0, 1, 1],
                                                    [0, 0, 1, 0, 1]])
    assert tree.path_matrix(np.array([1, 3, 2])) is paths  # kept for the next metric
    with pytest.raises(ValueError, match="read-only"):
        paths.data[0] = 5.0


def test_root_distances_include_the_root_length() -> None:
    tree = parse_newick("((a:1,b:2)x:3,c:4)r:0.5;")
    np.testing.assert_allclose(tree.root_distances(), [4.5, 5.5, 3.5, 4.5, 0.5])


# ------------------------------------------------------ property-based tests
@st.composite
def random_trees(draw: st.DrawFn) -> PhyloTree:
    """Random rooted trees built by merging random subtrees (parents after children)."""
    n_tips = draw(st.integers(1, 25))
    roots = list(range(n_tips))
    parent = [-1] * n_tips
    while len(roots) > 1:
        k = draw(st.integers(2, min(3, len(roots)))) if len(roots) > 2 else 2
        picked = draw(st.permutations(roots))[:k]
        new = len(parent)
        parent.append(-1)
        for child in picked:
            parent[child] = new
            roots.remove(child)
        roots.append(new)
    n = len(parent)
    lengths = draw(st.lists(st.one_of(st.just(0.0), st.floats(1e-9, 10.0)), min_size=n,
                            max_size=n))
    lengths[-1] = 0.0
    names = [f"t_{i}" if i < n_tips else draw(st.sampled_from(["", "0.95", "node x"]))
             for i in range(n)]
    return PhyloTree(np.array(parent), np.array(lengths), np.array(names, dtype=object))


@settings(max_examples=60, deadline=None)
@given(random_trees())
def test_property_write_then_read_is_identity_and_matches_skbio(tree: PhyloTree) -> None:
    text = format_newick(tree)
    again = parse_newick(text)
    assert format_newick(again) == text  # canonical (depth-first) numbering after a trip
    assert again.n_nodes == tree.n_nodes
    assert again.total_length() == pytest.approx(tree.total_length(), rel=1e-12)
    reference = _skbio_read(text)
    assert reference.count() == tree.n_nodes
    theirs, mine = _skbio_tip_depths(reference), _tip_depths(tree)
    assert all(abs(mine[k] - theirs[k]) < 1e-9 for k in theirs)


@settings(max_examples=60, deadline=None)
@given(random_trees(), st.data())
def test_property_shear_keeps_root_distances(tree: PhyloTree, data: st.DataObject) -> None:
    keep = data.draw(st.lists(st.sampled_from(tree.tip_names), min_size=1, unique=True))
    sheared = tree.shear(keep)
    assert set(sheared.tip_names) == set(keep)
    assert np.all(sheared.n_children()[~sheared.is_tip] >= 2)
    before, after = _tip_depths(tree), _tip_depths(sheared)
    assert all(abs(before[k] - after[k]) < 1e-9 for k in keep)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="(),:;'[] \nab_1.e-", max_size=40))
def test_property_any_text_parses_or_raises_input_error(text: str) -> None:
    try:
        tree = parse_newick(text)
    except InputError as error:
        assert "malformed Newick" in str(error) or "duplicate tip names" in str(error)
    else:
        assert tree.parent[-1] == -1 and tree.n_nodes >= 1
