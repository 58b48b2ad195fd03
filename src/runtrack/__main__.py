from runtrack.cli import main

# one program name, so usage lines and shell completion (_RUNTRACK_COMPLETE) match `runtrack`
main(prog_name="runtrack")
