"""Code generation from .proto files with the system protoc (Debian), offline.

All contracts live under //proto with `proto/` as the import root, so a file is
imported as "tessera/common/v1/common.proto" in every language.
"""

_PROTOC = "/usr/bin/protoc"
_GRPC_CPP_PLUGIN = "/usr/bin/grpc_cpp_plugin"
_GRPC_JAVA_PLUGIN = "/usr/bin/grpc_java_plugin"
_PROTO_ROOT = "proto"

def _stem(src):
    return src[:-len(".proto")]

def tessera_proto_library(name, srcs, deps = [], grpc = True, visibility = None):
    """C++ messages (and gRPC services when grpc=True) for `srcs`.

    Creates:
      <name>_files: the .proto files with those of `deps`, transitively (for imports).
      <name>: a cc_library with the generated code.
    `deps` are other tessera_proto_library targets in the same package.
    """
    native.filegroup(
        name = name + "_files",
        srcs = srcs + [d + "_files" for d in deps],
        visibility = visibility,
    )

    outs = []
    for src in srcs:
        outs += [_stem(src) + ".pb.h", _stem(src) + ".pb.cc"]
        if grpc:
            outs += [_stem(src) + ".grpc.pb.h", _stem(src) + ".grpc.pb.cc"]

    grpc_flags = ""
    if grpc:
        grpc_flags = "--grpc_out=$(GENDIR)/{root} --plugin=protoc-gen-grpc={plugin}".format(
            root = _PROTO_ROOT,
            plugin = _GRPC_CPP_PLUGIN,
        )

    native.genrule(
        name = name + "_cc_gen",
        srcs = srcs + [name + "_files"],
        outs = outs,
        cmd = " ".join([
            _PROTOC,
            "-I" + _PROTO_ROOT,
            "-I/usr/include",
            "--cpp_out=$(GENDIR)/" + _PROTO_ROOT,
            grpc_flags,
        ] + ["$(location {})".format(s) for s in srcs]),
        message = "protoc (C++) " + name,
    )

    native.cc_library(
        name = name,
        srcs = [o for o in outs if o.endswith(".cc")],
        hdrs = [o for o in outs if o.endswith(".h")],
        includes = ["."],
        deps = deps + ["//third_party:protobuf"] + (["//third_party:grpc++"] if grpc else []),
        visibility = visibility,
    )

def tessera_java_proto_library(name, protos, visibility = None):
    """A jar of Java messages and gRPC stubs for the tessera_proto_library `protos`.

    Runs `protoc --java_out --grpc-java_out` and compiles the result with the system
    javac against Debian's grpc-java jars (listed in //bazel:java_classpath.txt).
    """
    native.genrule(
        name = name,
        srcs = [p + "_files" for p in protos] + ["//bazel:java_classpath.txt"],
        outs = [name + ".jar"],
        cmd = """
set -e
CP=$$(tr '\\n' ':' < $(location //bazel:java_classpath.txt))
WORK=$$(mktemp -d)
mkdir -p $$WORK/src $$WORK/classes
FILES=$$(for f in $(SRCS); do case $$f in *.proto) echo $$f;; esac; done | sort -u)
{protoc} -I{root} -I/usr/include --java_out=$$WORK/src --grpc-java_out=$$WORK/src \
    --plugin=protoc-gen-grpc-java={plugin} $$FILES
find $$WORK/src -name '*.java' > $$WORK/sources.txt
javac -nowarn -encoding UTF-8 --release 11 -cp "$$CP" -d $$WORK/classes @$$WORK/sources.txt     > $$WORK/javac.log 2>&1 || (cat $$WORK/javac.log >&2; exit 1)
OUTJAR=$$PWD/$@
(cd $$WORK/classes && jar cf $$OUTJAR .)
rm -rf $$WORK
""".format(protoc = _PROTOC, root = _PROTO_ROOT, plugin = _GRPC_JAVA_PLUGIN),
        message = "protoc + javac (Java) " + name,
        visibility = visibility,
    )
