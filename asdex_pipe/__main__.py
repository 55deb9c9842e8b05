"""``python -m asdex_pipe``: run the pipeline (see conf/config.yaml)."""

from asdex_pipe.pipeline.cli import main

if __name__ == "__main__":
    main()
