"""What the three CLIs share: one-line errors with exit codes, warnings, progress bars.

Library code raises ToolkitError subclasses; this turns them into
``error: <file>: <problem>`` on stderr and exit 1 (bad input) or 2 (usage),
never a traceback.
"""

from __future__ import annotations

import functools
import sys

import click

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
    type=click.Choice(["auto", "cpu", "cuda"]), help="Where models run; auto picks cuda when available.")
