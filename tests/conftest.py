from pathlib import Path

import pytest

from kpi_kit import load_client, load_params

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).parent.parent


@pytest.fixture
def tiny_params():
    return load_params(FIXTURES / "tiny.yaml")


@pytest.fixture
def tiny(tiny_params):
    return load_client(tiny_params)


@pytest.fixture
def tiny_copy(tmp_path):
    """A writable copy of the tiny client: (yaml path, data folder)."""
    import shutil

    shutil.copytree(FIXTURES / "tiny", tmp_path / "tiny")
    shutil.copy(FIXTURES / "tiny.yaml", tmp_path / "tiny.yaml")
    return tmp_path / "tiny.yaml", tmp_path / "tiny"


@pytest.fixture
def kit_style():
    """Charts drawn off-screen in the kit's style; rcParams restored and figures closed afterwards."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from kpi_kit.charts import style as plotting

    with matplotlib.rc_context():
        plotting.use_style()
        yield
    plt.close("all")
