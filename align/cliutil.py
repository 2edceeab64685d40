"""What the three CLIs share: one-line errors with exit codes, warnings, progress bars,
and the options of a run over many inputs.

Library code raises ToolkitError subclasses; this turns them into
``error: <file>: <problem>`` on stderr and exit 1 (bad input) or 2 (usage),
never a traceback.
"""

from __future__ import annotations

import functools
import sys

import click

from .device import DEVICES
from .errors import ToolkitError, UsageError


def handle_errors(command):
    """Decorator for click command callbacks."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except UsageError as exc:
            raise click.UsageError(str(exc)) from None
        except ToolkitError as exc:
            raise click.ClickException(str(exc)) from None
        except BrokenPipeError:  # `align ... | head` is fine
            sys.stderr.close()
            sys.exit(0)
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            raise click.ClickException(f"{where}{exc.strerror or exc}") from None
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)

    return wrapper


def warn(message: str) -> None:
    click.echo(f"warning: {message}", err=True)


def info(message: str, quiet: bool = False) -> None:
    if not quiet:
        click.echo(message, err=True)


def progress(iterable=None, *, total=None, desc="", quiet=False, unit="it"):
    """A tqdm bar on stderr, hidden when quiet or when stderr is not a terminal."""
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, unit=unit, disable=quiet or None,
                file=sys.stderr, leave=False)


def version_option(command):
    """``--version``: the installed kkru distribution's version, the same for every command."""
    return click.version_option(package_name="kkru", message="%(prog)s (kkru) %(version)s")(command)


# Exit status of a run over many inputs: scripts must notice a partial result.
BATCH_SOME_FAILED = 3
EXIT_STATUS_HELP = (
    "\b\nExit status: 0 all done; 1 bad input or options (with --batch: nothing succeeded); "
    "2 usage error;\n3 with --batch: some inputs failed and the rest succeeded (see OUT_DIR/failures.tsv)."
)


def batch_exit_code(succeeded: int, failed: int) -> int:
    """0 when nothing failed, 1 when nothing succeeded (done now or in an earlier run),
    else BATCH_SOME_FAILED."""
    if not failed:
        return 0
    return BATCH_SOME_FAILED if succeeded else 1


device_option = click.option(
    "--device", default="auto", show_default=True,
    type=click.Choice(DEVICES), help="Where models run; auto picks cuda when available.")

# The options `align` and `translate` share, in the words both show in --help.
_RUN_OPTIONS = (
    click.option("--batch", "list_file", type=click.Path(dir_okay=False), default=None, metavar="LIST",
                 help="Run many inputs: a list file, one job per line: the paths the command takes as "
                      "arguments, separated by tabs (blank lines and # comments skipped; a relative path is "
                      "also looked for in the list's folder). Needs --out-dir."),
    click.option("--out-dir", type=click.Path(file_okay=False), default=None, metavar="DIR",
                 help="Folder for the outputs of many inputs, report.tsv and failures.tsv; rerunning resumes, "
                      "redoing inputs whose bytes or options changed (outputs no current result owns, e.g. "
                      "of another format: stale.tsv)."),
    click.option("--no-cache", is_flag=True,
                 help="Do not read or write the on-disk cache (embeddings, translations)."),
    click.option("--cache-dir", type=click.Path(file_okay=False), default=None, envvar="KKRU_CACHE", metavar="DIR",
                 help="Cache folder for embeddings, translations and converted models (default ~/.cache/kkru, "
                      "or $KKRU_CACHE)."),
    device_option,
    click.option("-q", "--quiet", is_flag=True, help="No progress bar, summary or warnings on stderr."),
)


def run_options(command):
    """Decorator adding the shared options (``list_file``, ``out_dir``, ``no_cache``,
    ``cache_dir``, ``device``, ``quiet``), so both CLIs spell and explain them alike."""
    for option in reversed(_RUN_OPTIONS):  # click lists options in decorator order, top down
        command = option(command)
    return command


_RAY_OPTIONS = (
    click.option("--ray", is_flag=True,
                 help="Run --batch (align: also --mine, --pair-docs) on a Ray cluster: the one at --ray-address, "
                      "else a fresh local Ray on this machine's CPUs. Outputs are the same as without it. Needs pip "
                      "install -e '.[ray]'."),
    click.option("--ray-address", envvar="RAY_ADDRESS", default=None, metavar="ADDR",
                 help="The Ray cluster to join (HOST:PORT of the head, or ray://HOST:10001); default $RAY_ADDRESS. "
                      "Inputs, --out-dir and outputs must be on storage every node sees (local paths, no s3://)."),
)


def ray_options(command):
    """Decorator adding ``--ray`` and ``--ray-address`` (``ray``, ``ray_address``)."""
    for option in reversed(_RAY_OPTIONS):
        command = option(command)
    return command


def executor_for(ray: bool, address: str | None):
    """The job runner's executor: this process (None), or Ray (at ``address``, else a
    fresh local one). Without ``--ray`` an address (say, from $RAY_ADDRESS) is ignored."""
    if not ray:
        return None
    from .cluster import RayExecutor

    return RayExecutor(address)


def worker_cache_dir(cache_dir: str | None, ray: bool) -> str | None:
    """The cache folder workers use. With ``--ray`` a folder that came from this machine's
    $KKRU_CACHE is not imposed on other nodes: each worker reads its own node's
    $KKRU_CACHE (SQLite does not belong on a network filesystem); ``--cache-dir`` is."""
    from click.core import ParameterSource

    source = click.get_current_context().get_parameter_source("cache_dir")
    return None if ray and source == ParameterSource.ENVIRONMENT else cache_dir
