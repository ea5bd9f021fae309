// Imported first by the local runtime. Powertools Tracer is off outside Lambda, yet importing it
// loads the X-Ray SDK, whose default automatic mode creates a cls-hooked namespace at once: an
// async_hooks hook on every promise of the process, destroy tracking included (about 5% of the CPU
// in the local storm). Manual mode skips it; nothing runs in an X-Ray context locally anyway.
// In Lambda the functions import nothing from local/, so tracing there keeps its automatic mode.
process.env.AWS_XRAY_MANUAL_MODE ??= 'true';
export {};
