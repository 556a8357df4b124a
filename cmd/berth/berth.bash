# bash completion for berth: its commands, their flags, and the names of
# containers, images and volumes, asked of the daemon (or data root) the command
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

_berth_volumes() {
	COMPREPLY=($(compgen -W "$(berth "${_berth_target[@]}" volume ls -q 2>/dev/null)" \
		-- "$cur"))
}

_berth_images() {
	COMPREPLY=($(compgen -W "$(berth "${_berth_target[@]}" images \
		--format '{{.Repository}}:{{.Tag}}' 2>/dev/null | grep -v '<none>')" -- "$cur"))
}

# The values docker's completion offers for flags, in its words.
_berth_signals="SIGCONT SIGHUP SIGINT SIGKILL SIGQUIT SIGSTOP SIGTERM SIGUSR1 SIGUSR2"
_berth_caps_addable="ALL CAP_AUDIT_CONTROL CAP_AUDIT_READ CAP_BLOCK_SUSPEND CAP_BPF
	CAP_CHECKPOINT_RESTORE CAP_DAC_READ_SEARCH CAP_IPC_LOCK CAP_IPC_OWNER CAP_LEASE
	CAP_LINUX_IMMUTABLE CAP_MAC_ADMIN CAP_MAC_OVERRIDE CAP_NET_ADMIN CAP_NET_BROADCAST
	CAP_PERFMON CAP_SYS_ADMIN CAP_SYS_BOOT CAP_SYSLOG CAP_SYS_MODULE CAP_SYS_NICE
	CAP_SYS_PACCT CAP_SYS_PTRACE CAP_SYS_RAWIO CAP_SYS_RESOURCE CAP_SYS_TIME
	CAP_SYS_TTY_CONFIG CAP_WAKE_ALARM RESET"
_berth_caps_droppable="ALL CAP_AUDIT_WRITE CAP_CHOWN CAP_DAC_OVERRIDE CAP_FOWNER CAP_FSETID
	CAP_KILL CAP_MKNOD CAP_NET_BIND_SERVICE CAP_NET_RAW CAP_SETFCAP CAP_SETGID CAP_SETPCAP
	CAP_SETUID CAP_SYS_CHROOT RESET"
_berth_ulimits="as chroot core cpu data fsize locks maxlogins maxsyslogins memlock msgqueue
	nice nofile nproc priority rss rtprio sigpending stack"

_berth_nospace() {
	compopt -o nospace 2>/dev/null
}

# COMPREPLY from the words of $1 that start with $2; with $3, each
# prefixed by it (the "key=" or "container:" already typed).
_berth_reply() {
	local w
	COMPREPLY=()
	for w in $1; do
		[[ $w == "$2"* ]] && COMPREPLY+=("$3$w")
	done
	[[ ${COMPREPLY[*]} == *[=:] ]] && _berth_nospace
}

# The flag whose value is being completed, and the part of the value
# before a "=" or ":" (key=value, container:name) with what follows it,
# whether bash split the word at that character or not.  Sets _flag,
# _head (the part before the separator, or empty), _tail (the value's
# start after it, or all of it) and _pre (what each answer starts with).
_berth_value_at() {
	_flag=$prev _head="" _tail=$cur _pre=""
	if [[ $cur == [=:] ]]; then
		# "key=" just typed, split off: the answers replace "=".
		_flag=${words[cword - 2]} _head=$prev _tail="" _pre=$cur
	elif [[ $prev == [=:] ]]; then
		_flag=${words[cword - 3]} _head=${words[cword - 2]}
	elif [[ $cur == *[=:]* ]]; then
		local sep=${cur//[^=:]/}
		sep=${sep:0:1}
		_head=${cur%%"$sep"*} _tail=${cur#*"$sep"} _pre=$_head$sep
	fi
}

# Completes the value of a flag of command $1; 0 when it did.
_berth_flag_value() {
	local _flag _head _tail _pre
	_berth_value_at
	case $1:$_flag in
	*:--restart)
		[[ -n $_head ]] && return 0
		_berth_reply "always no on-failure on-failure: unless-stopped" "$cur"
		;;
	*:--network | *:--net)
		if [[ $_head == container ]]; then
			cur=$_tail
			_berth_containers
			COMPREPLY=("${COMPREPLY[@]/#/$_pre}")
		else
			_berth_reply "bridge host none container:" "$cur"
		fi
		;;
	*:--stop-signal | kill:-s | kill:--signal | stop:-s | stop:--signal | restart:-s | \
		restart:--signal)
		_berth_reply "$_berth_signals ${_berth_signals//SIG/}" "${cur^^}"
		;;
	*:--security-opt)
		[[ -n $_head ]] && return 0
		_berth_reply "apparmor= label= no-new-privileges seccomp= systempaths=unconfined" "$cur"
		;;
	*:--cap-add)
		_berth_reply "$_berth_caps_addable ${_berth_caps_addable//CAP_/}" "${cur^^}"
		;;
	*:--cap-drop)
		_berth_reply "$_berth_caps_droppable ${_berth_caps_droppable//CAP_/}" "${cur^^}"
		;;
	*:--ulimit)
		[[ -n $_head ]] && return 0
		_berth_reply "$(printf '%s= ' $_berth_ulimits)" "$cur"
		;;
	inspect:--type)
		_berth_reply "container image" "$cur"
		;;
	volume-ls:-f | volume-ls:--filter)
		case $_head in
		dangling) _berth_reply "true false" "$_tail" "$_pre" ;;
		driver) _berth_reply "local" "$_tail" "$_pre" ;;
		name)
			cur=$_tail
			_berth_volumes
			COMPREPLY=("${COMPREPLY[@]/#/$_pre}")
			;;
		label) ;;
		*) _berth_reply "dangling= driver= label= name=" "$cur" ;;
		esac
		;;
	volume-create:-d | volume-create:--driver)
		_berth_reply "local" "$cur"
		;;
	volume-create:--label | volume-create:-o | volume-create:--opt | volume-inspect:-f | \
		*-prune:--filter) ;;
	ps:-f | ps:--filter | ls:-f | ls:--filter | list:-f | list:--filter)
		_berth_ps_filter
		;;
	images:-f | images:--filter)
		case $_head in
		dangling) _berth_reply "true false" "$_tail" "$_pre" ;;
		before | since | reference)
			cur=$_tail
			_berth_images
			COMPREPLY=("${COMPREPLY[@]/#/$_pre}")
			;;
		label) ;;
		*) _berth_reply "before= dangling= label= reference= since=" "$cur" ;;
		esac
		;;
	*) return 1 ;;
	esac
	return 0
}

# The keys of ps --filter, and the values docker's completion knows.
_berth_ps_filter() {
	case $_head in
	status)
		_berth_reply "created dead exited paused restarting running removing" "$_tail" "$_pre"
		;;
	health) _berth_reply "healthy starting none unhealthy" "$_tail" "$_pre" ;;
	is-task) _berth_reply "true false" "$_tail" "$_pre" ;;
	name | before | since | id)
		cur=$_tail
		_berth_containers
		COMPREPLY=("${COMPREPLY[@]/#/$_pre}")
		;;
	ancestor)
		cur=$_tail
		_berth_images
		COMPREPLY=("${COMPREPLY[@]/#/$_pre}")
		;;
	exited | expose | label | network | publish | volume) ;;
	*)
		_berth_reply "ancestor= before= exited= expose= health= id= is-task= label= name=
			network= publish= since= status= volume=" "$cur"
		;;
	esac
}

_berth_create_flags="--add-host --cap-add --cap-drop -c --cpu-shares --cpus --cpuset-cpus
	--detach-keys --device --dns --entrypoint -e --env --env-file --health-cmd
	--health-interval --health-retries --health-start-period --health-timeout -h --hostname
	--init -i --interactive -l --label --label-file --link -m --memory --memory-swap --mount
	--name --network --no-healthcheck --oom-kill-disable --pids-limit --privileged -p
	--publish -P --publish-all --read-only --restart --rm --security-opt --stop-signal
	--stop-timeout --tmpfs -t --tty --ulimit -u --user -v --volume --volumes-from -w
	--workdir --help"

# The flags of run and create that take a value: what follows them is no
# image.
_berth_create_valued="--add-host --cap-add --cap-drop -c --cpu-shares --cpus --cpuset-cpus
	--detach-keys --device --dns --entrypoint -e --env --env-file --health-cmd
	--health-interval --health-retries --health-start-period --health-timeout -h --hostname
	-l --label --label-file --link -m --memory --memory-swap --mount --name --network
	--pids-limit -p --publish --restart --security-opt --stop-signal --stop-timeout --tmpfs
	--ulimit -u --user -v --volume --volumes-from -w --workdir"

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
	system-prune) flags="-f --force -a --all --filter --volumes --help" args=none ;;
	volume-create) flags="-d --driver --label -o --opt --help" args=none ;;
	volume-ls) flags="-f --filter --format -q --quiet --help" args=none ;;
	volume-inspect) flags="-f --format --help" args=volume ;;
	volume-rm) flags="-f --force --help" args=volume ;;
	volume-prune) flags="-f --force --filter --help" args=none ;;
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
		run save start stats stop system tag top unpause update version volume wait"
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
		elif [[ $command == container || $command == image || $command == system ||
			$command == volume ]] &&
			[[ -z $sub ]]; then
			sub=${words[i]}
		fi
	done
	case $prev in
	-H | --host | --data-root | --exec-root | --tlscacert | --tlscert | --tlskey | --env-file | \
		--label-file | -o | --output | -i | --input | -v | --volume)
		[[ ($prev == -i && -n $command && $command != load) || ($prev == -o && $command == volume) ||
			($prev == -v && $command != run && $command != create && $sub != run &&
				$sub != create) ]] || {
			COMPREPLY=($(compgen -f -- "$cur"))
			return
		}
		;;
	-l | --log-level)
		[[ -z $command || $prev == --log-level ]] && {
			COMPREPLY=($(compgen -W "debug info warn error fatal" -- "$cur"))
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
	volume) [[ -z $sub ]] && {
		COMPREPLY=($(compgen -W "create inspect ls prune rm" -- "$cur"))
		return
	} ;;
	esac
	local what=${sub:-$command}
	[[ $command == image && $sub == rm ]] && what=rmi
	[[ $command == image && $sub == ls ]] && what=images
	[[ $command == system && $sub == prune ]] && what=system-prune
	if [[ $command == volume ]]; then
		case $sub in
		list) what=volume-ls ;;
		remove) what=volume-rm ;;
		*) what=volume-$sub ;;
		esac
	fi
	_berth_command_info "$what"
	_berth_where
	_berth_flag_value "$what" && return
	# The value of another flag: nothing to offer.
	local f
	[[ $prev == --format ]] && return
	if [[ $what == run || $what == create ]]; then
		for f in $_berth_create_valued; do
			[[ $prev == "$f" ]] && return
		done
	fi
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$flags" -- "$cur"))
		return
	fi
	case $args in
	container) _berth_containers ;;
	running) _berth_containers status=running ;;
	stopped) _berth_containers status=exited ;;
	image) _berth_images ;;
	volume) _berth_volumes ;;
	any)
		_berth_containers
		local c=("${COMPREPLY[@]}")
		_berth_images
		COMPREPLY+=("${c[@]}")
		;;
	esac
}

complete -F _berth berth
