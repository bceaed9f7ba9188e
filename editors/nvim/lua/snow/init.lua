-- The Snow language server for Neovim's built-in LSP client (0.7 and later).
-- `require('snow').setup({ cmd = { '/path/to/snowc', 'lsp' } })` to change
-- the command; the default is `snowc lsp` from PATH.
local M = { config = { cmd = { 'snowc', 'lsp' } } }

function M.setup(opts)
  M.config = vim.tbl_extend('force', M.config, opts or {})
end

-- The folder of the program: the nearest one with a main.snow, else the file's.
local function root_of(file)
  local dir = vim.fn.fnamemodify(file, ':p:h')
  local d = dir
  while d and d ~= '/' do
    if vim.fn.filereadable(d .. '/main.snow') == 1 then
      return d
    end
    d = vim.fn.fnamemodify(d, ':h')
  end
  return dir
end

local clients = {}

function M.attach(buf)
  buf = buf == 0 and vim.api.nvim_get_current_buf() or buf
  local root = root_of(vim.api.nvim_buf_get_name(buf))
  local id = clients[root]
  if not id or not vim.lsp.get_client_by_id(id) then
    id = vim.lsp.start_client({ name = 'snowc', cmd = M.config.cmd, root_dir = root })
    clients[root] = id
  end
  if id then
    vim.lsp.buf_attach_client(buf, id)
    local opts = { buffer = buf, silent = true }
    vim.keymap.set('n', 'K', vim.lsp.buf.hover, opts)
    vim.keymap.set('n', 'gd', vim.lsp.buf.definition, opts)
    vim.bo[buf].omnifunc = 'v:lua.vim.lsp.omnifunc'
    -- Format on save, as `snowc fmt` would.
    vim.api.nvim_create_autocmd('BufWritePre', {
      buffer = buf,
      callback = function()
        if vim.lsp.buf.format then
          vim.lsp.buf.format({ timeout_ms = 2000 })
        else
          vim.lsp.buf.formatting_sync(nil, 2000)
        end
      end,
    })
  end
end

return M
