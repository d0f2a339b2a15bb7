// The command-line options both benchmark scripts take: `--name` flags, `--name value` options, and
// the configuration (--config NAME, or --quick / --full; default realistic).
export function benchArgs(argv: string[]) {
  const flag = (name: string) => argv.includes(`--${name}`);
  const option = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const config = option('config') ?? (flag('quick') ? 'quick' : flag('full') ? 'full' : 'realistic');
  return { flag, option, config };
}
