"""Ship the repository's conf/ inside the wheel as asdex_pipe/conf (metadata is in pyproject)."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildPyWithConf(build_py):
    """build_py that also copies conf/ (Hydra configs) into the built package."""

    def run(self):
        """Build as usual, then copy the YAML configs next to the package's modules."""
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads conf/ straight from the checkout
        src = Path(__file__).resolve().parent / "conf"
        dst = Path(self.build_lib) / "asdex_pipe" / "conf"
        shutil.copytree(src, dst, dirs_exist_ok=True)


setup(cmdclass={"build_py": BuildPyWithConf})
