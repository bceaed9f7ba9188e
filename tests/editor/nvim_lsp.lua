-- Neovim's built-in LSP client driving `snowc lsp` (scripts/nvim-test.sh
-- runs this headless). Each check prints "ok NAME" or "FAIL NAME: why";
-- the last line is "nvim: N passed, M failed"; the exit status is 1 when
-- any check failed.
local snowc = os.getenv('SNOWC') or 'snowc'
local passed, failed = 0, 0
local function out(s) io.stdout:write(s .. '\n') end
local function check(name, ok, why)
  if ok then
    passed = passed + 1
    out('ok ' .. name)
  else
    failed = failed + 1
    out('FAIL ' .. name .. ': ' .. tostring(why))
  end
end
local function finish()
  out(string.format('nvim: %d passed, %d failed', passed, failed))
  vim.cmd(failed == 0 and 'qa!' or 'cquit 1')
end

-- A program of two files in a fresh folder.
local dir = vim.fn.tempname()
vim.fn.mkdir(dir, 'p')
local function write(name, lines)
  vim.fn.writefile(lines, dir .. '/' .. name)
end
write('util.snow', {
  '# Twice n.',
  'pub fn twice(n :: Int) -> Int = n * 2',
})
write('main.snow', {
  'import Util',
  '',
  'fn main() do',
  '  let total = Util.twice(21)',
  '  let name = 42',
  '  println("hello " <> name)',
  '  println("${total}")',
  'end',
})

local client = vim.lsp.start_client({
  name = 'snowc',
  cmd = { 'sh', '-c', snowc .. ' lsp 2>' .. dir .. '/lsp.err' },
  root_dir = dir,
  -- Every change is sent at once (no debounce): a request right after an
  -- edit sees it.
  flags = { debounce_text_changes = 0 },
})
check('server starts', client ~= nil, 'start_client returned nil')
if not client then return finish() end

vim.cmd('edit ' .. dir .. '/main.snow')
local buf = vim.api.nvim_get_current_buf()
vim.lsp.buf_attach_client(buf, client)

local function diags() return vim.diagnostic.get(buf) end
local function code_of(d)
  return d.code or (d.user_data and d.user_data.lsp and d.user_data.lsp.code)
end

-- 1. The error: "hello " <> name with name :: Int.
vim.wait(15000, function() return #diags() > 0 end, 50)
local d = diags()[1]
check('diagnostic on open', d ~= nil, 'no diagnostic')
if d then
  check('diagnostic code', code_of(d) == 'E0028', 'code ' .. tostring(code_of(d)) .. ': ' .. d.message)
  -- line 6 (0-based 5), `name` at columns 22..26
  check('diagnostic range', d.lnum == 5 and d.col == 22 and d.end_lnum == 5 and d.end_col == 26,
    string.format('%d:%d-%d:%d', d.lnum, d.col, d.end_lnum, d.end_col))
end

-- 2. Fix it (an incremental edit): the diagnostic is cleared.
vim.api.nvim_buf_set_text(buf, 4, 13, 4, 15, { '"snow"' })
vim.wait(15000, function() return #diags() == 0 end, 50)
check('fixed diagnostic cleared', #diags() == 0, #diags() .. ' left: ' .. (diags()[1] and diags()[1].message or ''))

-- A request at (1-based line, 0-based column): explicit, since normal
-- mode's cursor cannot stand after the last character of a line.
local function request(method, line, col)
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(buf) },
    position = { line = line - 1, character = col },
  }
  local res = vim.lsp.buf_request_sync(buf, method, params, 15000)
  local r = res and res[client]
  return r and r.result, r and r.error
end

-- 3. Hover a local: its inferred type.
local h, err = request('textDocument/hover', 7, 14) -- `total` in "${total}"
local hv = h and h.contents and h.contents.value or ''
check('hover local type', hv:find('total :: Int', 1, true) ~= nil, vim.inspect(h or err))

-- 4. Definition in another file.
local loc = request('textDocument/definition', 4, 20) -- `twice`
if loc and loc[1] then loc = loc[1] end
check('definition in another file', loc and loc.uri and loc.uri:match('/util%.snow$') and loc.range.start.line == 1,
  vim.inspect(loc))
if loc and loc.uri then
  vim.lsp.util.jump_to_location(loc, 'utf-16')
  check('jump to util.snow', vim.api.nvim_buf_get_name(0):match('/util%.snow$') ~= nil, vim.api.nvim_buf_get_name(0))
  vim.cmd('buffer ' .. buf)
end

-- 5. Hover and definition of a std function (Ws.broadcast).
vim.api.nvim_buf_set_lines(buf, 7, 7, false, { '  Ws.broadcast("lobby", name)' })
vim.wait(15000, function()
  local l = request('textDocument/hover', 8, 6)
  return l ~= nil
end, 200)
local hj = request('textDocument/hover', 8, 6)
local hjv = hj and hj.contents and hj.contents.value or ''
check('hover std signature', hjv:find('fn Ws.broadcast(room :: String, text :: String) -> Int', 1, true) ~= nil, hjv)
check('hover std doc comment', hjv:find('could not be queued', 1, true) ~= nil, hjv)
local sl = request('textDocument/definition', 8, 6)
if sl and sl[1] then sl = sl[1] end
check('definition into std/ws/ws.snow', sl and sl.uri and sl.uri:match('std/ws/ws%.snow$') ~= nil, vim.inspect(sl))
if sl and sl.uri then
  vim.lsp.util.jump_to_location(sl, 'utf-16')
  local line = vim.api.nvim_get_current_line()
  check('jump into std lands on broadcast', line:find('pub extern fn broadcast(', 1, true) ~= nil, line)
  vim.cmd('buffer ' .. buf)
end

-- 6. Completion after `Ws.`: join is offered, with its signature.
vim.api.nvim_buf_set_lines(buf, 8, 8, false, { '  Ws.' })
local items = request('textDocument/completion', 9, 5)
items = items and (items.items or items) or {}
local join
for _, it in ipairs(items) do
  if it.label == 'join' then join = it end
end
check('complete Ws. offers join', join ~= nil, #items .. ' items')
check('completion has the signature', join and join.detail == 'fn Ws.join(conn :: Conn, room :: String) -> Int',
  join and join.detail)
vim.api.nvim_buf_set_lines(buf, 8, 9, false, {})

-- 7. Format the document.
vim.api.nvim_buf_set_lines(buf, 7, 8, false, { '      Ws.broadcast(  "lobby",name)' })
vim.lsp.buf.formatting_sync(nil, 15000)
local got = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
check('formatting', got[8] == '  Ws.broadcast("lobby", name)', vim.inspect(got))

vim.lsp.stop_client(client)
vim.wait(5000, function() return vim.lsp.get_client_by_id(client) == nil end, 50)
local err = table.concat(vim.fn.readfile(dir .. '/lsp.err'), '\n')
check('server exits cleanly', err == '', err)
finish()
