// The baseline: a workflow that does nothing, so starting it costs only what Temporal
// itself needs to start a workflow and run its first task.
export async function emptyWorkflow(): Promise<void> {}
