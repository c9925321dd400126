import type { StepContext, StepData } from './step-context.js';

export async function stepVerify(_ctx: StepContext): Promise<StepData> {
  throw new Error('verify: not wired yet');
}
