"""CUDA sources compiled by /usr/local/cuda/bin/nvcc (CUDA 13) into a cc_library.

Each source becomes one object file in a genrule, so the rest of the build uses
the ordinary C++ toolchain and never includes a CUDA header: `.cu` files are
device code for sm_80 and sm_90 plus compute_90 PTX (which the driver JIT-compiles
for newer GPUs); `.cc` files are host code that nvcc hands to gcc 12 with the
CUDA include directory added. The objects link against the static CUDA runtime
(//third_party:cuda_runtime), so binaries start on machines without a GPU.
"""

NVCC = "/usr/local/cuda/bin/nvcc"

CUDA_ARCH_FLAGS = [
    "-gencode=arch=compute_80,code=sm_80",
    "-gencode=arch=compute_90,code=[sm_90,compute_90]",
]

_COMMON_FLAGS = [
    "-ccbin=/usr/bin/gcc-12",
    "-std=c++17",
    "-O3",
    "-DNDEBUG",
    "-Xcompiler=-fPIC,-Wall,-Wno-sign-compare",
    "-I.",
]

def cuda_library(name, srcs, hdrs = [], textual_inputs = [], deps = [], nvcc_flags = [], **kwargs):
    """A cc_library of nvcc-compiled objects.

    Args:
      name: the cc_library's name.
      srcs: .cu (device) and .cc (host code that includes CUDA headers) files.
      hdrs: the library's headers (also inputs of every nvcc compile).
      textual_inputs: other headers the sources include (so edits recompile them).
      deps: cc_library dependencies of the objects (e.g. absl).
      nvcc_flags: extra nvcc flags.
      **kwargs: passed to the cc_library (visibility, ...).
    """
    objs = []
    for src in srcs:
        stem = src.rsplit(".", 1)[0]
        obj = "_nvcc/%s/%s.o" % (name, stem)
        flags = _COMMON_FLAGS + nvcc_flags
        if src.endswith(".cu"):
            flags = flags + CUDA_ARCH_FLAGS + ["-Xptxas=-warn-spills"]
        native.genrule(
            name = "%s_nvcc_%s" % (name, stem.replace("/", "_")),
            srcs = [src] + hdrs + textual_inputs,
            outs = [obj],
            cmd = "%s %s -c $(location %s) -o $@" % (NVCC, " ".join(flags), src),
            message = "nvcc %s" % src,
            visibility = ["//visibility:private"],
        )
        objs.append(obj)
    native.cc_library(
        name = name,
        srcs = objs,
        hdrs = hdrs,
        deps = deps + ["//third_party:cuda_runtime"],
        **kwargs
    )
