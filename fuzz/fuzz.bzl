"""libFuzzer targets that double as corpus regression tests.

tessera_fuzz_target(name = "foo_fuzzer", srcs = ["foo_fuzzer.cc"], deps = [...]) makes:
  foo_fuzzer                  under --config=fuzz (clang): a libFuzzer binary;
                              otherwise a replay binary (same arguments: files and
                              directories of inputs).
  foo_fuzzer_regression_test  replays every file of corpus/foo_fuzzer/ through
                              LLVMFuzzerTestOneInput (in every configuration).
"""

def tessera_fuzz_target(name, srcs, deps = [], corpus = None):
    corpus = corpus or name
    native.cc_library(
        name = name + "_lib",
        srcs = srcs,
        deps = deps + ["//fuzz:fuzz_util"],
        # The only entry point, LLVMFuzzerTestOneInput, is referenced from the
        # fuzzer runtime or replay_main, not from any object in this library.
        alwayslink = True,
        testonly = True,
    )
    native.cc_binary(
        name = name,
        deps = [":" + name + "_lib"] + select({
            "//fuzz:libfuzzer": [],
            "//conditions:default": ["//fuzz:replay_main"],
        }),
        linkopts = select({
            "//fuzz:libfuzzer": ["-fsanitize=fuzzer"],
            "//conditions:default": [],
        }),
        testonly = True,
    )
    native.cc_test(
        name = name + "_regression_test",
        deps = [":" + name + "_lib", "//fuzz:replay_main"],
        data = native.glob(["corpus/" + corpus + "/**"]),
        args = ["--require_inputs", "fuzz/corpus/" + corpus],
        size = "small",
    )
