"""After the build, or on data an earlier run left: what beat would have added."""

import time


def settle() -> None:
    """Store what beat's system tasks would have stored on a live installation: the
    message counts of big runs (campaigns.counting), which the console reads."""
    try:
        from campaigns.counting import runs_recount
    except ImportError:
        return
    started = time.perf_counter()
    counted = runs_recount(limit=1_000_000)
    print(
        f"Stored the counts of {counted} runs (campaigns.counting.runs_recount): "
        f"{time.perf_counter() - started:.1f} s",
        flush=True,
    )
