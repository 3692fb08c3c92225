def build_prompt(context):
    return 'hi'
