import type { IO } from './streams.js';

export interface Spinner {
  stop(): void;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** A spinner on stderr while waiting on the network, only when stderr is a terminal. */
export function startSpinner(io: Pick<IO, 'stderr' | 'isStderrTTY'>, text: string): Spinner {
  if (!io.isStderrTTY) return { stop: () => undefined };
  let frame = 0;
  const draw = (): void => {
    io.stderr.write(`\r\u001b[2K${FRAMES[frame % FRAMES.length] ?? ''} ${text}`);
    frame += 1;
  };
  draw();
  const timer = setInterval(draw, 80);
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
      io.stderr.write('\r\u001b[2K');
    },
  };
}
