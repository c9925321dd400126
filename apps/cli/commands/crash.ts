import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { findFirstCrash } from '../../../core/crash/console.js';
import { UsageError } from '../../../lib/errors.js';
import { contextFrom } from '../context.js';
import { EXIT, ExitError } from '../exit.js';

export function crashCommand(): Command {
  const crash = new Command('crash').description('guest kernel crashes: recognise the same crash across boots, runs and flavors');
  crash
    .command('signature')
    .description('print the kind, headline and signature of the first crash (panic, Oops, BUG, soft lockup, hung task…) in a console log')
    .argument('<console-log>', 'a serial console, dmesg or journalctl -k output')
    .action((file: string, _flags: unknown, command: Command) => {
      const ctx = contextFrom(command);
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        throw new UsageError(`crash signature: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
      }
      const found = findFirstCrash(text);
      if (!found) {
        if (ctx.out.json) ctx.out.data({ file, crash: null });
        // Exit 1 like grep: a script can ask "did this console crash?" by the code alone.
        throw new ExitError(EXIT.failed, ctx.out.json ? '' : `no kernel crash report in ${file}`);
      }
      if (ctx.out.json) return ctx.out.data({ file, crash: found });
      ctx.out.line(`kind       ${found.kind}`);
      ctx.out.line(`headline   ${found.headline}`);
      ctx.out.line(`signature  ${found.signature}`);
      ctx.out.line(`line       ${found.line}`);
      ctx.out.line(`frames     ${found.frames.length > 0 ? found.frames.join(' < ') : '(no call trace; the signature covers the headline)'}`);
    });
  return crash;
}
