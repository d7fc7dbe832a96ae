"""`yc-chat stream setup`: apply (or check) the Stream app setup the service relies on."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Mapping

from yc_chat.entrypoints.cli_common import CommandError, configure_cli_logging
from yc_chat.entrypoints.settings import Settings, SettingsError

# Exit status of `--check` when the setup is not applied (as `diff` and `git diff --exit-code`).
EXIT_NOT_APPLIED = 1


def stream_command(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    """Apply the channel type's grants (idempotent), or with `--check` only report them."""
    settings = Settings.from_env(env)
    configure_cli_logging(settings, env, quiet=True)
    return asyncio.run(_setup(settings, check_only=bool(args.check)))


async def _setup(settings: Settings, *, check_only: bool) -> int:
    from yc_chat.entrypoints import bootstrap, readiness

    if settings.stream_api_key is None or settings.stream_api_secret is None:
        raise SettingsError(
            "`yc-chat stream setup` needs STREAM_API_KEY and STREAM_API_SECRET (a Stream app, "
            "or a `yc-chat emulator`); the emulator `serve` starts by itself is set up by it"
        )
    async with bootstrap.open_chat(settings) as (chat, _, _):
        setup = readiness.setup_of(chat)
        if setup is None:  # pragma: no cover - both Stream adapters have a setup side
            raise CommandError("this chat provider has no setup")
        missing = list(await setup.setup_missing())
        if check_only:
            if missing:
                print("stream setup: NOT applied (grants differ for: " + ", ".join(missing) + ")")
                print("apply it with: yc-chat stream setup")
                return EXIT_NOT_APPLIED
            print("stream setup: applied")
            return 0
        changed = list(await setup.apply_setup())
        left = list(await setup.setup_missing())
    if left:
        raise CommandError(
            "stream setup: Stream did not keep the grants for: " + ", ".join(left), status=1
        )
    if changed:
        print("stream setup: applied (grants set for: " + ", ".join(changed) + ")")
    else:
        print("stream setup: already applied, nothing changed")
    return 0
