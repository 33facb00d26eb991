// Compiled with the flags of gptq_fallback_tests' copies of thread.cpp and
// media.cpp: the build fails here when those flags leave __SSE2__ defined,
// so that the fallback tests cannot quietly test the SSE2 path again.
#if defined(__SSE2__)
#error "__SSE2__ is still defined: gptq_fallback_tests would test the SSE2 path, not the fallback"
#endif
