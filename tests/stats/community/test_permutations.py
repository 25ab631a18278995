"""Permutation designs: free, within strata, of whole blocks; seeded and batch-invariant."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import vegan_fixtures as vf

from gutaxis.errors import InputError
from gutaxis.stats.community import permanova
from gutaxis.stats.community.permutations import permutation_matrix


def test_free_rows_are_permutations_and_seeded() -> None:
    a = permutation_matrix(30, 200, rng=np.random.default_rng(5))
    b = permutation_matrix(30, 200, rng=np.random.default_rng(5))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(np.sort(a, axis=1), np.tile(np.arange(30), (200, 1)))
    assert len({tuple(r) for r in a}) == 200


def test_within_strata_samples_stay_in_their_stratum() -> None:
    strata = np.repeat([2, 0, 1], [4, 7, 5])[np.random.default_rng(1).permutation(16)]
    perms = permutation_matrix(16, 300, rng=np.random.default_rng(2), strata=strata)
    np.testing.assert_array_equal(strata[perms], np.tile(strata, (300, 1)))
    np.testing.assert_array_equal(np.sort(perms, axis=1), np.tile(np.arange(16), (300, 1)))
    assert (perms != np.arange(16)).any(axis=1).mean() > 0.9  # samples do move


def test_whole_blocks_move_as_units_keeping_the_order_inside() -> None:
    blocks = np.repeat(np.arange(5), 3)
    perms = permutation_matrix(15, 200, rng=np.random.default_rng(3), blocks=blocks)
    moved = perms.reshape(200, 5, 3)
    # each block lands on one block, its members in their order
    np.testing.assert_array_equal(moved - moved[:, :, :1], np.tile([0, 1, 2], (200, 5, 1)))
    assert np.all(moved[:, :, 0] % 3 == 0)


def test_vegan_block_permutations_are_of_the_same_kind() -> None:
    plot = vf.metadata("dune")["plot"].to_numpy()
    for perm in vf.permutations("dune_blocks_plot")[:50]:
        # a block's samples go together to one block, in their order
        assert len(set(zip(plot, plot[perm], strict=True))) == len(set(plot))


def test_result_does_not_depend_on_the_batch_size(monkeypatch: pytest.MonkeyPatch) -> None:
    dm, meta = vf.distances("dune_braycurtis"), vf.metadata("dune")
    whole = permanova(dm, meta, formula="Management + A1", permutations=199, seed=3)
    module = sys.modules["gutaxis.stats.community.permanova"]  # the name is the function
    monkeypatch.setattr(module, "BATCH_ELEMENTS", 20 * 4 * 7)  # 7 per batch
    steps: list[tuple[int, int]] = []
    batched = permanova(dm, meta, formula="Management + A1", permutations=199, seed=3,
                        progress=lambda done, total: steps.append((done, total)))
    np.testing.assert_allclose(batched.f_permuted, whole.f_permuted, rtol=1e-12)
    np.testing.assert_array_equal(batched.table["pval"], whole.table["pval"])
    assert len(steps) == 29 and steps[-1] == (199, 199)


def test_strata_with_one_level_is_refused() -> None:
    meta = vf.metadata("dune").assign(site="A")
    with pytest.raises(InputError, match="one level"):
        permanova(vf.distances("dune_braycurtis"), meta, formula="A1", strata="site")


def test_unequal_blocks_are_refused() -> None:
    with pytest.raises(InputError, match="equally many"):
        permanova(vf.distances("dune_braycurtis"), vf.metadata("dune"), formula="A1",
                  blocks="Management")


def test_strata_and_blocks_together_are_refused() -> None:
    with pytest.raises(InputError, match="not both"):
        permanova(vf.distances("dune_braycurtis"), vf.metadata("dune"), formula="A1",
                  strata="Use", blocks="plot")
