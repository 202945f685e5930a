# bash completion for threadwatch(1); installed as share/bash-completion/completions/threadwatch.
_threadwatch() {
  local cur prev cmd i
  cur=${COMP_WORDS[COMP_CWORD]}
  prev=${COMP_WORDS[COMP_CWORD-1]}
  local commands="run report suppress dump attach options version help"
  if [[ $COMP_CWORD -eq 1 ]]; then
    COMPREPLY=($(compgen -W "$commands --help --version" -- "$cur"))
    return
  fi
  cmd=${COMP_WORDS[1]}
  case $cmd in
    run)
      # After the program (or --), complete as that program would: commands, then files.
      for ((i = 2; i < COMP_CWORD; i++)); do
        case ${COMP_WORDS[i]} in
          --) _command_offset $((i + 1)) 2>/dev/null || COMPREPLY=($(compgen -f -- "$cur")); return ;;
          -l|--log|-j|--json|-s|--sarif|--suppress|--stall|--exitcode|--fail-on|--source-root|-o|--option|--lib) ((i++)) ;;
          -*) ;;
          *) _command_offset "$i" 2>/dev/null || COMPREPLY=($(compgen -f -- "$cur")); return ;;
        esac
      done
      case $prev in
        -l|--log) COMPREPLY=($(compgen -W "stderr stdout" -- "$cur") $(compgen -f -- "$cur")); return ;;
        -j|--json|-s|--sarif|--suppress|--lib) COMPREPLY=($(compgen -f -- "$cur")); return ;;
        --source-root) COMPREPLY=($(compgen -d -- "$cur")); return ;;
        --fail-on) COMPREPLY=($(compgen -W "error warning all none thread-leak thread-surge lock-order-cycle deadlock stall misuse race-suspect" -- "$cur")); return ;;
        --stall|--exitcode) return ;;
        -o|--option)
          local names
          names=$(threadwatch options 2>/dev/null | sed -n 's/^THREADWATCH_\([A-Z_]*\).*/\1/p' | tr 'A-Z' 'a-z' | sed 's/$/=/')
          COMPREPLY=($(compgen -W "$names" -- "$cur"))
          compopt -o nospace 2>/dev/null
          return ;;
      esac
      if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "--log --json --sarif --suppress --stall --exitcode --fail-on --source-root --option --lib --help --version --" -- "$cur"))
      else
        COMPREPLY=($(compgen -c -- "$cur"))
      fi
      ;;
    report)
      case $prev in
        -f|--format) COMPREPLY=($(compgen -W "text sarif junit" -- "$cur")); return ;;
        --source-root) COMPREPLY=($(compgen -d -- "$cur")); return ;;
        --fail-on) COMPREPLY=($(compgen -W "error warning all none" -- "$cur")); return ;;
      esac
      if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "--format --output --source-root --fail-on --help --version" -- "$cur"))
      else
        COMPREPLY=($(compgen -f -- "$cur"))
      fi
      ;;
    suppress)
      if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W "--output --help --version" -- "$cur"))
      else COMPREPLY=($(compgen -f -- "$cur")); fi
      ;;
    dump|attach)
      if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W "--all --json --help --version" -- "$cur"))
      else COMPREPLY=($(compgen -W "$(ps -eo pid= 2>/dev/null)" -- "$cur")); fi
      ;;
    options) COMPREPLY=($(compgen -W "--markdown --man --help --version" -- "$cur")) ;;
    help) COMPREPLY=($(compgen -W "$commands" -- "$cur")) ;;
  esac
}
complete -F _threadwatch threadwatch
