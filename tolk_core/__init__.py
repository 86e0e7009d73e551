"""What both environments share: the gateway (`bot/`, Python 3.12+) and Rasa's side
(`actions/`, `nlu_components/`, `rasa_channels/`, Python 3.10) import this package.

Standard library and PyYAML only, so that it installs anywhere: text normalisation (the
same in training and at run time), language names, the project's fixed facts, reading
NLU training files, secrets between our own processes and the typed signals the actions
send the gateway. See docs/architecture.md.
"""
