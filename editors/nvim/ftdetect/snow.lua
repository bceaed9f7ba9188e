vim.cmd([[autocmd BufRead,BufNewFile *.snow setfiletype snow]])
