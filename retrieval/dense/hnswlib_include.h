// The one way to include hnswlib in Tessera.
//
// Debian's hnswlib 0.6.2 defines four functions (cpuid(), xgetbv(),
// AVXCapable(), AVX512Capable()) and five distance-function pointers in its
// headers without `inline`, so two translation units that include it cannot
// be linked into one binary ("multiple definition"). C++17 lets an `inline`
// declaration precede a definition; it makes those entities inline, and the
// linker keeps one copy. The list matches what 0.6.2 defines when SSE is
// enabled (x86-64-v2); extra declarations would be harmless.
#ifndef TESSERA_RETRIEVAL_DENSE_HNSWLIB_INCLUDE_H_
#define TESSERA_RETRIEVAL_DENSE_HNSWLIB_INCLUDE_H_

#include <cstdint>

inline void cpuid(int32_t cpu_info[4], int32_t eax, int32_t ecx);
inline uint64_t xgetbv(unsigned int index);
inline bool AVXCapable();
inline bool AVX512Capable();

namespace hnswlib {
using TesseraFloatDistance = float (*)(const void*, const void*, const void*);
inline extern TesseraFloatDistance InnerProductSIMD16Ext;
inline extern TesseraFloatDistance InnerProductSIMD4Ext;
inline extern TesseraFloatDistance InnerProductDistanceSIMD16Ext;
inline extern TesseraFloatDistance InnerProductDistanceSIMD4Ext;
inline extern TesseraFloatDistance L2SqrSIMD16Ext;
}  // namespace hnswlib

// hnswlib's SSE search loops prefetch the id after the last link of a list,
// reading 4 bytes past its allocation (harmless, but AddressSanitizer stops
// the test there). 0.6.2 turns its SSE code on whenever __SSE__ is defined, so
// under ASan the macro is hidden while hnswlib is read: no SSE loops, no
// prefetching, and the sanitizer checks our code instead.
#if defined(__SANITIZE_ADDRESS__)
#pragma push_macro("__SSE__")
#undef __SSE__
#include <hnswlib/hnswlib.h>
#pragma pop_macro("__SSE__")
#else
#include <hnswlib/hnswlib.h>
#endif

#endif  // TESSERA_RETRIEVAL_DENSE_HNSWLIB_INCLUDE_H_
