"""Run the steergan CLI in-process: (exit code, stdout, stderr), never raising SystemExit."""
from steergan.cli.main import main


def invoke(args, capsys):
    try:
        main(args)
        code = 0
    except SystemExit as e:
        code = e.code or 0
    out = capsys.readouterr()
    return code, out.out, out.err
