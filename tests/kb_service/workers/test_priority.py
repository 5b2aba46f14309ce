import os
import threading

import pytest

from kb_service.workers.priority import BACKGROUND_NICENESS, lower_current_thread_priority

pytestmark = pytest.mark.skipif(not hasattr(os, "setpriority"), reason="needs POSIX priorities")


def test_only_the_calling_thread_and_its_children_are_lowered() -> None:
    main_before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    seen: dict[str, int] = {}

    def child() -> None:
        seen["child"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    def background() -> None:
        lower_current_thread_priority()
        seen["background"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        started = threading.Thread(target=child)
        started.start()
        started.join()

    thread = threading.Thread(target=background)
    thread.start()
    thread.join()
    assert seen == {
        "background": max(main_before, BACKGROUND_NICENESS),
        "child": max(main_before, BACKGROUND_NICENESS),
    }
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == main_before
