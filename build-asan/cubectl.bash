# bash completion for cubectl: the words come from cubectl itself, which
# reads them off the daemon's YANG modules and config.
_cubectl() {
	local IFS=$'\n'
	COMPREPLY=($(cubectl __complete "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null))
	[[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == *= ]] && compopt -o nospace
}
complete -F _cubectl cubectl
