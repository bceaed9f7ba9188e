-- Snow buffers: two-space indentation, `#` comments, and `snowc lsp`.
vim.bo.shiftwidth = 2
vim.bo.tabstop = 2
vim.bo.expandtab = true
vim.bo.commentstring = '# %s'
require('snow').attach(0)
