// Test-process setup for the integration project.
// aws-local-stepfunctions 3 uses Promise.withResolvers, which Node 20 lacks (it arrived in 22).
if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function withResolvers() {
    let resolve;
    let reject;
    const promise = new this((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}

// The handlers' structured logs are for CloudWatch; in the test output they only bury failures.
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
