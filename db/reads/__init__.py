"""The read models, and nothing else: every public function of a module here is one that
ui.data.read accepts (and no function elsewhere is). One module per page or part of one."""
