export async function fsxSession(_: unknown): Promise<{ops:number;mismatches:number}> { return { ops: 0, mismatches: 0 } }
