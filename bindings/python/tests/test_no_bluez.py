# SPDX-License-Identifier: MIT
"""Without BlueZ on the bus, the module still imports and `adapter` is None,
as CircuitPython documents for a board without an adapter."""

import _bleio


def test_adapter_is_none():
    assert _bleio.adapter is None


def test_everything_else_is_there():
    assert _bleio.UUID(0x180F).uuid16 == 0x180F
    assert issubclass(_bleio.ConnectionError, _bleio.BluetoothError)
