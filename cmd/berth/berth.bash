# bash completion for berth: its commands, their flags, and the names of
# containers and images, asked of the daemon (or data root) the command
# line being completed names.  Installed by `make install`.

_berth_global=(-H --host --data-root --exec-root -D --debug -l --log-level --tls --tlscacert
	--tlscert --tlskey --tlsverify -v --version --help)

# The options before the command that say where berth works.
_berth_where() {
	local i
	_berth_target=()
	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		-H | --host | --data-root | --exec-root | --tlscacert | --tlscert | --tlskey)
			_berth_target+=("${words[i]}" "${words[i + 1]}")
			((i++))
			;;
		--host=* | --data-root=* | --exec-root=* | --tls*) _berth_target+=("${words[i]}") ;;
		-*) ;;
		*) return ;;
		esac
	done
}

_berth_containers() {
	local filter=$1
	COMPREPLY=($(compgen -W "$(berth "${_berth_target[@]}" ps -a ${filter:+--filter "$filter"} \
		--format '{{.Names}}' 2>/dev/null)" -- "$cur"))
}

_berth_images() {
	COMPREPLY=($(compgen -W "$(berth "${_berth_target[@]}" images \
		--format '{{.Repository}}:{{.Tag}}' 2>/dev/null | grep -v '<none>')" -- "$cur"))
}

_berth_create_flags="--add-host --cap-add --cap-drop -c --cpu-shares --cpus --cpuset-cpus
	--detach-keys --device --dns --entrypoint -e --env --env-file --health-cmd
	--health-interval --health-retries --health-start-period --health-timeout -h --hostname
	--init -i --interactive -l --label --label-file --link -m --memory --memory-swap --mount
	--name --network --no-healthcheck --oom-kill-disable --pids-limit --privileged -p
	--publish -P --publish-all --read-only --restart --rm --security-opt --stop-signal
	--stop-timeout --tmpfs -t --tty --ulimit -u --user -v --volume --volumes-from -w
	--workdir --help"

# The flags of COMMAND, and what its arguments are (container, running,
# image, none).
_berth_command_info() {
	case $1 in
	run) flags="-d --detach --sig-proxy $_berth_create_flags" args=image ;;
	create) flags="$_berth_create_flags" args=image ;;
	start) flags="-a --attach -i --interactive --detach-keys --help" args=stopped ;;
	attach) flags="--detach-keys --no-stdin --sig-proxy --help" args=running ;;
	stop | restart) flags="-t --time -s --signal --help" args=container ;;
	kill) flags="-s --signal --help" args=running ;;
	pause | top | port | stats) flags="--help" args=running ;;
	unpause) flags="--help" args=container ;;
	wait | diff | rename) flags="--help" args=container ;;
	rm) flags="-f --force -v --volumes --help" args=container ;;
	update) flags="-c --cpu-shares --cpus --cpuset-cpus -m --memory --memory-swap
		--pids-limit --restart --help" args=container ;;
	logs) flags="-f --follow -t --timestamps --details --since --until -n --tail --help"
		args=container ;;
	exec) flags="-d --detach -i --interactive -t --tty -e --env -w --workdir -u --user
		--privileged --detach-keys --help" args=running ;;
	commit) flags="-a --author -c --change -m --message -p --pause --help" args=container ;;
	export) flags="-o --output --help" args=container ;;
	cp) flags="-a --archive -L --follow-link -q --quiet --help" args=container ;;
	inspect) flags="-f --format --type -s --size --help" args=any ;;
	ps | ls | list) flags="-a --all -q --quiet -n --last -l --latest -s --size --no-trunc
		-f --filter --format --help" args=none ;;
	images) flags="-a --all -q --quiet --digests --no-trunc -f --filter --format --help"
		args=none ;;
	rmi) flags="-f --force --no-prune --help" args=image ;;
	tag | history | save) flags="--help -o --output -q --quiet --no-trunc -H --human
		--format" args=image ;;
	load) flags="-i --input -q --quiet --help" args=none ;;
	import) flags="-c --change -m --message --help" args=none ;;
	events) flags="--since --until -f --filter --format --help" args=none ;;
	prune) flags="-f --force -a --all --filter --help" args=none ;;
	df) flags="--format -v --verbose --help" args=none ;;
	version | info) flags="-f --format --help" args=none ;;
	*) flags="--help" args=none ;;
	esac
}

_berth() {
	local cur prev words cword
	if declare -F _init_completion >/dev/null; then
		_init_completion || return
	else
		cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
		words=("${COMP_WORDS[@]}") cword=$COMP_CWORD
	fi
	local commands="attach commit container cp create diff events exec export history
		image images import info inspect kill load logs pause port ps rename restart rm rmi
		run save start stats stop system tag top unpause update version wait"
	local i command="" sub="" flags args
	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		-H | --host | --data-root | --exec-root | -l | --log-level | --tlscacert | --tlscert | --tlskey)
			((i++))
			continue
			;;
		-*) continue ;;
		esac
		if [[ -z $command ]]; then
			command=${words[i]}
		elif [[ $command == container || $command == image || $command == system ]] &&
			[[ -z $sub ]]; then
			sub=${words[i]}
		fi
	done
	case $prev in
	-H | --host | --data-root | --exec-root | --tlscacert | --tlscert | --tlskey | --env-file | \
		--label-file | -o | --output | -i | --input)
		[[ $prev == -i && -n $command && $command != load ]] || {
			COMPREPLY=($(compgen -f -- "$cur"))
			return
		}
		;;
	esac
	if [[ -z $command ]]; then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "${_berth_global[*]}" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$commands" -- "$cur"))
		fi
		return
	fi
	case $command in
	container) [[ -z $sub ]] && {
		COMPREPLY=($(compgen -W "attach commit cp create diff exec export inspect kill logs
			ls pause port prune rename restart rm run start stats stop top unpause update
			wait" -- "$cur"))
		return
	} ;;
	image) [[ -z $sub ]] && {
		COMPREPLY=($(compgen -W "history import inspect load ls prune rm save tag" \
			-- "$cur"))
		return
	} ;;
	system) [[ -z $sub ]] && {
		COMPREPLY=($(compgen -W "df events info prune" -- "$cur"))
		return
	} ;;
	esac
	local what=${sub:-$command}
	[[ $command == image && $sub == rm ]] && what=rmi
	[[ $command == image && $sub == ls ]] && what=images
	_berth_command_info "$what"
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$flags" -- "$cur"))
		return
	fi
	_berth_where
	case $args in
	container) _berth_containers ;;
	running) _berth_containers status=running ;;
	stopped) _berth_containers status=exited ;;
	image) _berth_images ;;
	any)
		_berth_containers
		local c=("${COMPREPLY[@]}")
		_berth_images
		COMPREPLY+=("${c[@]}")
		;;
	esac
}

complete -F _berth berth
