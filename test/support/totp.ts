/** TOTP codes from the real library (otplib), at the current step or a few steps away. */
import { generate as otpGenerate } from 'otplib';

export function generate(secret: string, stepOffset = 0): Promise<string> {
  return otpGenerate({ secret, epoch: Math.floor(Date.now() / 1000) + stepOffset * 30 });
}
