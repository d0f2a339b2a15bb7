// The one command-line parser of the scripts: `--name` flags and `--name value` options. The
// benchmark scripts add their configuration (--config NAME, or --quick / --full; default realistic).
export function scriptArgs(argv: string[]) {
  const flag = (name: string) => argv.includes(`--${name}`);
  const option = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  return { flag, option };
}

/** The benchmark scripts' options: scriptArgs plus the configuration name. */
export function benchArgs(argv: string[]) {
  const { flag, option } = scriptArgs(argv);
  const config = option('config') ?? (flag('quick') ? 'quick' : flag('full') ? 'full' : 'realistic');
  return { flag, option, config };
}
