from hitm.cli import app

app(prog_name="hitm")
