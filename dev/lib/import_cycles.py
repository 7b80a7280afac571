#!/usr/bin/env python3
"""Fails when Rust files of a crate import each other in a circle (ARCHITECTURE.md, "Layers").

A file's imports are the `crate::…` paths it names outside comments and its test module; each
is resolved to the deepest module file that exists. A module naming its own parent or child is
not a circle (a module and its submodules are one unit). Usage: import_cycles.py CRATE_DIR...
"""
import os
import re
import sys


def module_files(src):
    modules = {}
    for directory, _, files in os.walk(src):
        for name in files:
            if name.endswith(".rs"):
                path = os.path.join(directory, name)
                parts = os.path.relpath(path, src)[:-3].split(os.sep)
                if parts[-1] in ("mod", "lib", "main"):
                    parts = parts[:-1]
                modules["::".join(parts)] = path
    return modules


def imports(path, modules, this):
    text = open(path, encoding="utf-8").read()
    text = re.sub(r"#\[cfg\(test\)\]\s*mod tests\s*\{.*", "", text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    named = set(re.findall(r"crate::([a-z_][a-z0-9_:]*)", text))
    for group in re.findall(r"use crate::\{([^;]*)\};", text, flags=re.S):
        named.update(part.split("::{")[0] for part in re.split(r"[,\s]+", group) if part)
    found = set()
    for path_named in named:
        parts = [part for part in path_named.split("::") if part]
        for end in range(len(parts), 0, -1):
            module = "::".join(parts[:end])
            if module in modules:
                related = module.startswith(this + "::") or this.startswith(module + "::") or module == this
                if not related:
                    found.add(module)
                break
    return found


def circles(graph):
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for other in graph.get(node, ()):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                component.append(other)
                if other == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10000)
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def main():
    failed = False
    for crate in sys.argv[1:]:
        modules = module_files(os.path.join(crate, "src"))
        graph = {module: imports(path, modules, module) for module, path in modules.items()}
        for component in circles(graph):
            failed = True
            print(f"{crate}: these modules import each other in a circle: {', '.join(component)}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
