"""``kkru``: one collision-free name for the whole public API."""

import pytest


def test_every_public_name_resolves_to_the_packages_own_object():
    import align
    import eval as evaluation
    import kkru
    import translate

    packages = {"align": align, "translate": translate, "eval": evaluation}
    for name in kkru.__all__:
        if name == "__version__":
            assert kkru.__version__ == align.__version__
            continue
        assert getattr(kkru, name) is getattr(packages[kkru._PUBLIC[name]], name), name
    with pytest.raises(AttributeError):
        kkru.not_a_name  # noqa: B018
