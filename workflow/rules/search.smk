# One search per space x method x data set x seed (DARTS space: CIFAR-10 only). `result.json`
# is written last (atomically) and is the only declared output: Snakemake deletes the declared outputs of a failed or
# interrupted job, and `checkpoint.pt` and `log.jsonl` beside it must survive so that the
# rerun resumes from the last epoch instead of starting over.


rule search:
    input:
        unpack(search_inputs),
    output:
        result=f"{RUN}/result.json",
    log:
        "logs/{profile}/search/{space}/{method}/{dataset}/seed{seed}.log",
    benchmark:
        "results/{profile}/benchmarks/search/{space}/{method}/{dataset}/seed{seed}.tsv"
    conda:
        "../envs/isdarts.yaml"
    threads: search_threads
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        out=lambda wildcards, output: os.path.dirname(output.result),
        data_root=lambda wildcards, input: data_root_of(input.data),
        device=config["device"],
        bench=search_bench_arg,
    shell:
        "python -m isdarts search --space {wildcards.space} --method {wildcards.method}"
        " --dataset {wildcards.dataset} --seed {wildcards.seed} --profile {input.profile}"
        " --device {params.device} --data-root {params.data_root} {params.bench}"
        " --out {params.out} > {log} 2>&1"
