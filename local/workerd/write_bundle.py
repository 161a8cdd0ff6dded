"""Writes workerd's "dev" Pyodide bundle: a capnp `jsg::Bundle` (modules.capnp, from workerd's
src/workerd/jsg/modules.capnp) of the three internal modules workerd's glue imports.

    python local/workerd/write_bundle.py <pyodide package dir> <patched pyodide.asm.mjs> <out .capnp.bin>
"""

import sys
from pathlib import Path

import capnp

HERE = Path(__file__).resolve().parent


def main(package: Path, patched_asm: Path, out: Path) -> None:
    # c++.capnp, which modules.capnp imports, ships inside pycapnp.
    schema = capnp.load(str(HERE / "modules.capnp"), imports=[str(Path(capnp.__file__).parent.parent)])
    bundle = schema.Bundle.new_message()
    asm, wasm, stdlib = bundle.init("modules", 3)
    asm.name, asm.src = "pyodideRuntime-internal:pyodide.asm", patched_asm.read_bytes()
    wasm.name, wasm.wasm = "pyodideRuntime-internal:pyodide.asm.wasm", (package / "pyodide.asm.wasm").read_bytes()
    stdlib.name, stdlib.data = "pyodideRuntime-internal:python_stdlib.zip", (package / "python_stdlib.zip").read_bytes()
    for module in (asm, wasm, stdlib):
        module.type = "internal"
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_suffix(".partial")
    partial.write_bytes(bundle.to_bytes())
    partial.replace(out)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*(Path(arg) for arg in sys.argv[1:]))
