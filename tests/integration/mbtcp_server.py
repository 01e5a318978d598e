#!/usr/bin/python3
"""An independent Modbus TCP device for test_mbtcp_client: pymodbus (Debian's
python3-pymodbus) serving the open map's public addresses (LOCAL.md §1.4, the table
restated below from the firmware listing) with a 60 Hz grid and a 52.34 V pack.

    mbtcp_server.py READY_FILE     writes the listening port to READY_FILE"""
import asyncio
import socket
import sys

from pymodbus.datastore import (ModbusServerContext, ModbusSlaveContext,
                                ModbusSparseDataBlock)
from pymodbus.server import StartAsyncTcpServer

# (public start, count) of every run of the open map
RUNS = [(50001, 31), (50200, 88), (51001, 8), (51200, 25), (51234, 16), (51501, 67),
        (53001, 10), (53011, 2), (55001, 30), (55101, 91), (57001, 1), (57005, 1),
        (57009, 5), (57016, 5), (57022, 5), (59301, 7), (59323, 1), (59501, 10)]
VALUES = {
    50214: 600,   # 1300 grid frequency, 0.1 Hz: 60.0 Hz
    50223: 1200,  # 1303... phase record (voltage 0.1 V where the block has it)
    51002: 5234,  # 6003 pack voltage, 0.01 V: 52.34 V
}


def main():
    regs = {}
    for start, n in RUNS:
        for a in range(start, start + n):
            regs[a] = VALUES.get(a, 0)
    store = ModbusSlaveContext(hr=ModbusSparseDataBlock(regs), zero_mode=True)
    ctx = ModbusServerContext(slaves={1: store}, single=False)
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()

    async def run():
        server = StartAsyncTcpServer(context=ctx, address=("127.0.0.1", port))
        task = asyncio.ensure_future(server)
        await asyncio.sleep(0.5)
        with open(sys.argv[1] + ".tmp", "w") as f:
            f.write("%d\n" % port)
        import os
        os.rename(sys.argv[1] + ".tmp", sys.argv[1])
        await task

    asyncio.run(run())


if __name__ == "__main__":
    main()
