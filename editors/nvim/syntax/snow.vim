" Snow syntax highlighting (keywords, strings with ${...}, numbers, comments).
if exists('b:current_syntax') | finish | endif
syn keyword snowKeyword fn pub let do end if else case when import from extern type struct service for in and or not
syn keyword snowHandler call cast
syn keyword snowBoolean true false nil
syn match snowNumber "\<0[xX][0-9a-fA-F_]\+\>\|\<[0-9][0-9_]*\(\.[0-9][0-9_]*\)\=\([eE][+-]\=[0-9]\+\)\=\>"
syn match snowType "\<[A-Z][A-Za-z0-9]*\>"
syn match snowOperator "|>\|->\|::\|<>\|==\|!=\|<=\|>=\|&&\|||"
syn region snowInterp matchgroup=snowInterpDelim start="\${" end="}" contained contains=TOP
syn match snowEscape "\\[nrt\"\\$0]\|\\u{[0-9a-fA-F]\+}" contained
syn region snowString start=+"+ skip=+\\"+ end=+"+ contains=snowEscape,snowInterp
syn match snowComment "#.*$"
hi def link snowKeyword Keyword
hi def link snowHandler Keyword
hi def link snowBoolean Boolean
hi def link snowNumber Number
hi def link snowType Type
hi def link snowOperator Operator
hi def link snowString String
hi def link snowEscape SpecialChar
hi def link snowInterpDelim Delimiter
hi def link snowComment Comment
let b:current_syntax = 'snow'
