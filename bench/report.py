"""What every benchmark prints: the machine, then its numbers as a table and as one JSON line."""
from __future__ import annotations

import json
import os
import platform
from typing import Any


def machine() -> str:
    return f"{platform.machine()} {os.cpu_count()} cores, {platform.processor() or 'cpu'}"


def print_result(result: dict[str, Any]) -> None:
    width = max(len(key) for key in result)
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")
    print(json.dumps(result))
