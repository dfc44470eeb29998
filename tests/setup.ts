// Pulumi's SDK formats a stack trace for every promise it tracks (runtime/debuggable.js), and jest
// raises the stack depth to 100 frames, each mapped through source maps: most of a program run's
// time under jest. Ten frames keep failures readable and the suite several times faster.
Error.stackTraceLimit = 10;
