export async function fsxSession(_) { return { ops: 0, mismatches: 0 }; }
