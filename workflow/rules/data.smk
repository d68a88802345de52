# Data preparation: the only step that may download (official CIFAR when no mirror exists).


localrules:
    prepare_dataset,
    prepare_benchmark,


rule prepare_dataset:
    output:
        meta=f"{DATA}/{{dataset}}/meta.json",
    log:
        "logs/data/{dataset}.log",
    conda:
        "../envs/isdarts.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        root=lambda wildcards, output: data_root_of(output.meta),
    shell:
        "python -m isdarts data prepare {wildcards.dataset} --root {params.root} > {log} 2>&1"


rule prepare_benchmark:
    output:
        table=BENCH_TABLE,
        splits=BENCH_SPLITS,
    log:
        "logs/data/nb201.log",
    conda:
        "../envs/isdarts.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        root=lambda wildcards, output: data_root_of(output.table),
    shell:
        "python -m isdarts data prepare nb201 --root {params.root} > {log} 2>&1"
